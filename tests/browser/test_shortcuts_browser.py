"""Keyboard shortcuts in headless Chromium: "?" lists them in the reader's language, j/k and Enter
walk the queue, and on a ticket a/r/j act on it (static/js/workspace.js)."""

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
def test_the_queue_and_a_ticket_by_keyboard(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    for i in range(3):
        make_ticket_for(shop, order_no=f"T{i}", customer_id=f"c-{i}")

    with chromium() as browser:
        context, page = log_in(browser, live_server.url, "agent")
        page.wait_for_selector("#queue-results a.ticket-link")
        paths = page.eval_on_selector_all(
            "#queue-results a.ticket-link", "links => links.map(a => a.pathname)"
        )
        assert len(paths) == 3

        page.keyboard.press("?")
        page.wait_for_selector("[data-testid=shortcuts-help][open]")
        assert "键盘快捷键" in page.inner_text("[data-testid=shortcuts-help]")
        page.keyboard.press("Escape")
        page.wait_for_selector("[data-testid=shortcuts-help]:not([open])", state="attached")

        page.keyboard.press("j")
        page.keyboard.press("j")
        assert page.get_attribute("tr.kbd-current a.ticket-link", "href") == paths[1]
        page.keyboard.press("k")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}{paths[1]}")

        page.keyboard.press("a")  # assign to me
        page.wait_for_selector("[data-testid=ticket-assignee]:has-text('agent')")
        page.keyboard.press("r")
        assert page.evaluate("document.activeElement.id") == "reply-body"
        assert page.is_checked("input[name=visibility][value=public]")
        page.keyboard.press("Escape")  # leaves the reply box; keys are shortcuts again
        page.keyboard.press("n")
        assert page.is_checked("input[name=visibility][value=internal]")
        page.keyboard.press("Escape")
        page.keyboard.press("j")  # the next ticket of the queue the agent came from
        page.wait_for_url(f"{live_server.url}{paths[2]}")
        page.keyboard.press("g")
        page.keyboard.press("q")
        page.wait_for_url(f"{live_server.url}/")
        context.close()

        context, page = log_in(browser, live_server.url, "agent", language="en")
        page.click("[data-testid=open-shortcuts]")
        page.wait_for_selector("[data-testid=shortcuts-help][open]")
        help_text = page.inner_text("[data-testid=shortcuts-help]")
        assert (
            "keyboard shortcuts" in help_text.lower() and "键" not in help_text
        )  # h2 is upper-cased
        context.close()

    wait_for_server_connections_to_close()
