"""A ticket typed in by an agent in headless Chromium: the customer is found by phone, one of
their earlier orders is picked, and the new ticket opens with that order (both languages)."""

import pytest

from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket_for, staff_member


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_agent_opens_a_ticket_for_a_caller(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    make_ticket_for(shop, order_no="T-OLD-9", customer_id="c-1001")  # 张三, 13800000000

    with chromium() as browser:
        for language, found_text in {"zh-hans": "已找到客户", "en": "Found:"}.items():
            context, page = log_in(browser, live_server.url, "agent", language=language)
            page.click("[data-testid=nav-new-ticket]")
            page.wait_for_selector("[data-testid=ticket-new-form]")
            page.select_option("select[name=channel]", "phone")
            page.fill("input[name=customer_phone]", "138 0000 0000")
            page.click("[data-testid=find-customer]")
            page.wait_for_selector("[data-testid=customer-known]")
            assert found_text in page.inner_text("[data-testid=customer-found]")
            page.check("input[name=earlier_order][value=T-OLD-9]")
            page.select_option("select[name=dispute_type]", "damaged_on_arrival")
            page.fill("textarea[name=description]", "客户来电：杯子又碎了")
            page.click("[data-testid=create-ticket]")
            page.wait_for_selector("[data-testid=ticket-status]")
            assert "/tickets/AS" in page.url
            body = page.inner_text("main")
            assert "T-OLD-9" in body and "客户来电：杯子又碎了" in body
            context.close()

    wait_for_server_connections_to_close()
