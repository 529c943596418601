"""The ticket page in headless Chromium: a reply template's blanks are filled from the ticket, a
reply still holding a {blank} is refused with the text kept, and a closed ticket's follow-up
button creates the linked ticket."""

import pytest
import requests
from django.utils import timezone

from tests.browser.test_workspace_browser import (
    chromium,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, api_key_for, staff_member, ticket_payload
from tickets.models import Message, Ticket


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_template_blanks_refused_placeholder_and_follow_up(live_server):
    # Database work first: once Playwright runs, this thread's ORM calls would use another connection.
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    key = api_key_for(shop)
    headers = {"Authorization": f"Api-Key {key}", "Connection": "close"}
    numbers = []
    for ref in ("rma-1", "rma-2"):
        created = requests.post(
            f"{live_server.url}/api/v1/tickets/",
            json=ticket_payload(external_ref=ref),
            headers=headers,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        numbers.append(created.json()["number"])
    number, closed_number = numbers
    Ticket.objects.filter(number=closed_number).update(status="closed", closed_at=timezone.now())

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "agent")
        page.fill("input[name=password]", "pw-123456")
        page.click("form button[type=submit].btn-primary")
        page.wait_for_url(f"{live_server.url}/")

        # Picking the 2-选-1 template puts the ticket's own pair in the reply box.
        page.goto(f"{live_server.url}/tickets/{number}/")
        page.select_option("select.template-picker", label="两个方案供选择(2选1)")
        text = page.input_value("#reply-body")
        assert "方案一:优惠券 ¥2.00;方案二:现金(红包/转账) ¥2.00" in text and "{" not in text

        # A blank left in braces: refused, in the page's language, with the typed text kept.
        typed = text.replace("现金(红包/转账) ¥2.00", "{refund_amount}")
        page.fill("#reply-body", typed)
        page.click("[data-testid=send-reply]")
        error = page.wait_for_selector(".message-error")
        assert "{refund_amount}" in error.inner_text() and "占位" in error.inner_text()
        assert page.input_value("#reply-body") == typed
        assert page.locator(".timeline .msg-staff").count() == 0

        # A closed ticket: no reopen, a follow-up ticket instead, linked both ways.
        page.goto(f"{live_server.url}/tickets/{closed_number}/")
        assert page.locator("button.action-reopen").count() == 0
        page.click("[data-testid=create-follow-up]")
        page.wait_for_selector("[data-testid=follow-up-of]")
        assert closed_number not in page.url
        assert page.inner_text("[data-testid=follow-up-of]") == closed_number
        assert page.get_attribute("[data-testid=ticket-status]", "data-status") == "new"
        new_number = page.url.rstrip("/").rsplit("/", 1)[-1]
        page.click("[data-testid=follow-up-of]")
        page.wait_for_selector(f"[data-testid=follow-up]:has-text('{new_number}')")

    wait_for_server_connections_to_close()
    assert not Message.objects.filter(author_kind="staff").exists()
    assert Ticket.objects.get(number=new_number).follow_up_of.number == closed_number
