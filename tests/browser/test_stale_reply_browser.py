"""A reply written before a newer customer message is held back, in headless Chromium: the agent
sees the new message and a warning, and the draft is still in the box (the collision guard)."""

import pytest

from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket_for, staff_member
from tickets import services
from tickets.models import Message


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reply_written_before_the_customers_new_message_is_held_back(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    ticket = make_ticket_for(shop)

    with chromium() as browser:
        context, page = log_in(browser, live_server.url, "agent")
        page.goto(f"{live_server.url}/tickets/{ticket.number}/")
        page.fill("#reply-body", "亲，我们马上给您退款。")
        # Meanwhile the customer writes again (through the shop's backend).
        services.message_add(
            ticket=ticket, body="我不要退款了，请换货！", actor=services.Actor.shop(shop)
        )
        page.click("[data-testid=send-reply]")
        page.wait_for_selector("text=您写回复时有新消息到达")
        assert "我不要退款了，请换货！" in page.inner_text("#ticket-page")
        assert page.input_value("#reply-body") == "亲，我们马上给您退款。"
        assert not Message.objects.filter(ticket=ticket, body="亲，我们马上给您退款。").exists()
        page.click("[data-testid=send-reply]")  # now written with the new message on screen
        page.wait_for_selector("text=回复已发送。")
        assert Message.objects.filter(ticket=ticket, body="亲，我们马上给您退款。").exists()
        context.close()

    wait_for_server_connections_to_close()
