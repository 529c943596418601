"""The queue's bulk bar in headless Chromium: select two tickets, assign them to me, read the
summary and see the rows updated; the bar's actions wait for a selection."""

import pytest

from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket_for, staff_member
from tickets import services
from tickets.models import Ticket


def row(page, number: str):
    return page.locator(
        "#queue-results tbody tr", has=page.locator(f"a.ticket-link:text-is('{number}')")
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bulk_assign_to_me_from_the_queue(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    agent = staff_member(shop, "agent", username="agent")
    first, second, third = (
        make_ticket_for(shop, order_no=f"O-{i}", customer_id=f"c-{i}") for i in range(3)
    )
    services.ticket_tags_set(ticket=first, names=["加急"], actor=services.Actor.system())

    with chromium() as browser:
        context, page = log_in(browser, live_server.url, "agent")
        assert row(page, first.number).locator("a.tag").inner_text() == "加急"
        assign_me = page.locator("#bulk-assign-me")
        assert assign_me.is_disabled()

        page.check(f"input[data-bulk-row][value='{first.number}']")
        page.check(f"input[data-bulk-row][value='{second.number}']")
        assert assign_me.is_enabled()
        assert page.locator("[data-bulk-count]").inner_text() == "已选 2 个"
        assert page.locator("#bulk-all").evaluate("box => box.indeterminate")
        assign_me.click()

        page.wait_for_selector(".messages")
        assert "已处理 2 个,失败 0 个" in page.locator(".messages").inner_text()
        for number in (first.number, second.number):
            assert "agent" in row(page, number).inner_text()
        assert "未分配" in row(page, third.number).inner_text()
        assert page.locator("#bulk-assign-me").is_disabled()  # nothing selected after the reload

        page.check("#bulk-all")
        assert page.locator("[data-bulk-count]").inner_text() == "已选 3 个"
        page.uncheck("#bulk-all")
        assert page.locator("#bulk-assign-me").is_disabled()
        context.close()

    assert set(Ticket.objects.filter(assignee=agent).values_list("number", flat=True)) == {
        first.number,
        second.number,
    }
    wait_for_server_connections_to_close()
