"""The live queue in headless Chromium: a ticket that arrives while the agent looks at a filtered
queue shows up without a reload, the filter kept; nothing is swapped while tickets are selected."""

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
def test_a_new_ticket_appears_in_the_open_queue(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    make_ticket_for(shop, order_no="T-1", customer_id="c-1")

    with chromium() as browser:
        context, page = log_in(browser, live_server.url, "agent")
        page.goto(f"{live_server.url}/?tab=unassigned&sort=newest")
        page.wait_for_selector("#queue-rows a.ticket-link")
        page.evaluate("window.notReloaded = true")
        arrived = make_ticket_for(shop, order_no="T-2", customer_id="c-2")
        page.wait_for_selector(
            f"#queue-rows a.ticket-link:has-text('{arrived.number}')", timeout=25_000
        )
        assert page.evaluate("window.notReloaded") is True
        assert page.url.endswith("/?tab=unassigned&sort=newest")
        context.close()

    wait_for_server_connections_to_close()
