"""The customer's page in headless Chromium: from a ticket, the customer's name leads to their
history (tickets, compensation, contact log, risk), in Chinese and in English."""

from decimal import Decimal

import pytest

from disputes.models import Compensation
from disputes.services import policy_current
from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket_for, staff_member


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_from_a_ticket_to_the_customers_history_in_both_languages(live_server):
    # Database work first: once Playwright runs, this thread's ORM calls would use another connection.
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    tickets = [make_ticket_for(shop, order_no=f"T{i}", customer_id="c-1001") for i in range(3)]
    make_ticket_for(shop, order_no="X1", customer_id="c-2002")  # another customer's
    Compensation.objects.create(
        ticket=tickets[0],
        type="cash",
        amount=Decimal("12.50"),
        status="executed",
        policy=policy_current(shop=shop),
    )
    numbers = {t.number for t in tickets}

    with chromium() as browser:
        for language, texts in {
            # c-2002 has the same phone: a linked account (issue 16)
            "zh-hans": (
                "工单记录",
                "已给",
                "¥12.50",
                "本店其他客户账号使用了相同的手机号：c-2002。",
            ),
            "en": (
                "Ticket history",
                "Granted",
                "¥12.50",
                "The same phone number is used by another customer id of the shop: c-2002.",
            ),
        }.items():
            context, page = log_in(browser, live_server.url, "agent", language=language)
            page.goto(f"{live_server.url}/tickets/{tickets[1].number}/")
            page.click("[data-testid=customer-link]")
            page.wait_for_url(f"{live_server.url}/customers/demo/c-1001/")
            page.wait_for_selector("[data-testid=customer-page]")
            assert page.inner_text("[data-testid=customer-name]") == "张三"
            assert page.inner_text("[data-testid=customer-phone]") == "138****0000"
            listed = page.locator("[data-testid=customer-tickets] a.ticket-link").all_inner_texts()
            assert set(listed) == numbers and len(listed) == 3
            body = page.inner_text("main").lower()  # headings are upper-cased by the CSS
            for text in texts:
                assert text.lower() in body, (language, text)
            if language == "zh-hans":
                page.screenshot(path="/tmp/cust_customer_page.png", full_page=True)
            # and back to a ticket from the history
            page.click(f"[data-testid=customer-tickets] a:has-text('{tickets[0].number}')")
            page.wait_for_url(f"{live_server.url}/tickets/{tickets[0].number}/")
            context.close()

    wait_for_server_connections_to_close()
