"""Two agents on one ticket in headless Chromium: each sees the other within seconds, without a
reload, and sees when the other types (the collision guard's presence, tickets/presence.py)."""

import pytest

from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket_for, staff_member

VIEWER = "[data-testid=presence-viewer]"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_second_agent_sees_the_first_ones_presence_and_typing(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="li")
    staff_member(shop, "agent", username="wang")
    ticket = make_ticket_for(shop)
    url = f"{live_server.url}/tickets/{ticket.number}/"

    with chromium() as browser:
        li_context, li = log_in(browser, live_server.url, "li")
        wang_context, wang = log_in(browser, live_server.url, "wang", language="en")
        li.goto(url)
        wang.goto(url)
        # Li's page learns of Wang by its own heartbeat (every 5 s), without a reload.
        li.wait_for_selector(f"{VIEWER}:has-text('wang')", timeout=12_000)
        wang.wait_for_selector(f"{VIEWER}:has-text('li')", timeout=12_000)
        assert "同时在处理此工单" in li.inner_text("[data-testid=presence]")
        assert "Also on this ticket:" in wang.inner_text("[data-testid=presence]")

        li.fill("#reply-body", "")
        li.type("#reply-body", "您好，我们马上处理")
        wang.wait_for_selector(f"{VIEWER}:has-text('is typing')", timeout=12_000)

        li_context.close()  # Li leaves: the page says goodbye, Wang's list empties
        wang.wait_for_selector(VIEWER, state="detached", timeout=20_000)
        wang_context.close()

    wait_for_server_connections_to_close()
