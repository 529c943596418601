"""Merging a duplicate in headless Chromium: the ticket page suggests the customer's other ticket
on the same order, the agent merges it here with a note (and confirms), the page shows the
duplicate's message under "Merged from", and the duplicate's own page its banner."""

import pytest
import requests

from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, api_key_for, staff_member, ticket_payload
from tickets.models import Ticket, TicketEvent


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_merge_a_suggested_duplicate_with_a_note(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    headers = {"Authorization": f"Api-Key {api_key_for(shop)}", "Connection": "close"}
    numbers = []
    for ref in ("dup-1", "dup-2"):
        created = requests.post(
            f"{live_server.url}/api/v1/tickets/",
            json=ticket_payload(external_ref=ref),
            headers=headers,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        numbers.append(created.json()["number"])
    target_number, source_number = numbers
    sent = requests.post(
        f"{live_server.url}/api/v1/tickets/{source_number}/messages/",
        json={"body": "又提交了一次：瓶盖也坏了"},
        headers=headers,
        timeout=10,
    )
    assert sent.status_code == 201, sent.text

    with chromium() as browser:
        _context, page = log_in(browser, live_server.url, "agent")
        page.goto(f"{live_server.url}/tickets/{target_number}/")
        suggestion = page.locator(f"[data-testid=duplicate][data-number='{source_number}']")
        assert "同一订单" in suggestion.inner_text()
        suggestion.locator("[data-testid=merge-here]").click()
        suggestion.locator("textarea[name=note]").fill("客户重复提交同一订单")
        confirmations = []

        def accept(dialog):
            confirmations.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        suggestion.locator("[data-testid=confirm-merge-here]").click()

        section = page.wait_for_selector(
            f"[data-testid=merged-from][data-number='{source_number}']"
        )
        assert "合并自" in section.inner_text()
        assert "又提交了一次：瓶盖也坏了" in section.inner_text()
        assert f"已将 {source_number} 合并到 {target_number}" in page.inner_text(".message-success")
        assert "客户重复提交同一订单" in page.inner_text("#timeline")
        assert confirmations and source_number in confirmations[0]
        assert page.locator("[data-testid=duplicate-suggestions]").count() == 0

        page.click(f"[data-testid=merged-from] a[href='/tickets/{source_number}/']")
        banner = page.wait_for_selector("[data-testid=merged-banner]")
        assert "已合并到" in banner.inner_text() and target_number in banner.inner_text()
        assert page.get_attribute("[data-testid=ticket-status]", "data-status") == "closed"
        page.click("[data-testid=merged-into]")
        page.wait_for_url(f"{live_server.url}/tickets/{target_number}/")

    wait_for_server_connections_to_close()
    assert Ticket.objects.get(number=source_number).merged_into.number == target_number
    assert TicketEvent.objects.filter(ticket__number=target_number, kind="merged").count() == 1
