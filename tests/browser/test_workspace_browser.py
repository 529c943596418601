"""The workspace in a real headless Chromium: a shop creates a ticket over the API, an agent answers it."""

import contextlib
import os
import time

import pytest
import requests
from django.db import connection

from tests.factories import ShopFactory, api_key_for, staff_member, ticket_payload
from tests.workspace.images import png_bytes
from tickets.apps import seed_catalogues

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there unless told.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


def log_in(browser, base_url: str, username: str, *, language: str = "zh-hans"):
    """A new browser context logged in as `username` (password pw-123456), showing the workspace
    in `language` ("zh-hans", the default one, or "en" through the language switch)."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="en-US" if language == "en" else "zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_url(f"{base_url}/")
    if language == "en":
        page.click("form.lang-switch button[value=en]")
    page.wait_for_selector(f"html[lang={language}]")
    return context, page


def reseed_reference_data() -> None:
    """An earlier transactional test in this process may have flushed the rows the data migrations
    seeded (dispute types, reply templates); run those seeds again (they are idempotent)."""
    seed_catalogues(None)


def wait_for_server_connections_to_close(timeout: float = 5.0) -> None:
    """The live server's request threads close their database connections when the browser's sockets
    close; wait for that, or the test database cannot be dropped at the end of the session."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_agent_answers_a_ticket_created_through_the_api(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    # Database work first: once Playwright runs, this thread's ORM calls would use another connection.
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    key = api_key_for(shop)

    created = requests.post(
        f"{live_server.url}/api/v1/tickets/",
        json=ticket_payload(),
        headers={"Authorization": f"Api-Key {key}", "Connection": "close"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/")
        assert "/login/" in page.url
        page.fill("input[name=username]", "agent")
        page.fill("input[name=password]", "pw-123456")
        page.click("form button[type=submit].btn-primary")

        # The queue lists the new ticket.
        page.wait_for_selector(f"a.ticket-link:has-text('{number}')")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        page.screenshot(path="/tmp/queue.png", full_page=True)

        page.click(f"a.ticket-link:has-text('{number}')")
        page.wait_for_url(f"**/tickets/{number}/")
        assert page.get_attribute("[data-testid=ticket-status]", "data-status") == "new"

        # Reply through htmx: the timeline and the header update without a reload.
        page.evaluate("window.__noReload = true")
        page.fill("#reply-body", "亲,非常抱歉给您带来困扰,我们马上为您处理。")
        page.click("[data-testid=send-reply]")
        page.wait_for_selector(".timeline .msg-staff:has-text('马上为您处理')")
        page.wait_for_selector("[data-testid=ticket-status][data-status=open]")
        assert page.evaluate("window.__noReload") is True, "the page was reloaded"
        assert page.input_value("#reply-body") == ""

        # A canned reply fills the box; an internal note is shown as one; assigning updates the header.
        page.select_option("select.template-picker", index=1)
        assert page.input_value("#reply-body").startswith("亲")
        page.fill("#reply-body", "已联系仓库核实破损情况")
        page.check("input[name=visibility][value=internal]")
        page.click("[data-testid=send-reply]")
        page.wait_for_selector(".timeline .msg-internal:has-text('已联系仓库核实')")
        page.click("button:has-text('分配给我')")
        page.wait_for_selector("[data-testid=ticket-assignee]:has-text('agent')")
        assert page.evaluate("window.__noReload") is True

        # Evidence: the uploaded photo comes back through the access-checked view as a thumbnail.
        photo = {
            "name": "box.png",
            "mimeType": "image/png",
            "buffer": png_bytes(160, 120, (90, 140, 200)),
        }
        page.set_input_files("input[name=file]", files=[photo])
        page.click(".upload-form button[type=submit]")
        thumb = page.wait_for_selector(".evidence img.thumb")
        page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=thumb)
        assert page.evaluate("window.__noReload") is True

        page.screenshot(path="/tmp/ticket_page.png", full_page=True)

    wait_for_server_connections_to_close()
