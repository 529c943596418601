"""The queue in headless Chromium: htmx filtering keeps a clean URL, Back/Forward keep the controls and the
rows in step, Export CSV has exactly the rows shown; the queue and the ticket page fit a 390 px phone."""

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from tests.browser.test_workspace_browser import (
    chromium,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket, staff_member, ticket_payload
from tickets.models import Ticket

PHONE = {"width": 390, "height": 844}


def make_tickets(shop) -> dict[str, str]:
    """name -> number: open+high, open+normal, new+high (the platform deadline in 40 min), pending+low."""
    now = timezone.now()
    made = {}
    for name, status, priority, extra in [
        ("open_high", "open", "high", {"next_due_at": now + dt.timedelta(hours=5)}),
        ("open_normal", "open", "normal", {"next_due_at": now + dt.timedelta(hours=1)}),
        (
            "new_high",
            "new",
            "high",
            {
                "next_due_at": now + dt.timedelta(hours=9),
                "platform_deadline_at": now + dt.timedelta(minutes=40),
            },
        ),
        ("pending_low", "pending_customer", "low", {"next_due_at": None}),
    ]:
        payload = ticket_payload()
        ticket = make_ticket(
            shop,
            order={**payload["order"], "order_no": f"ORD-{name}"},
            customer={**payload["customer"], "external_id": f"c-{name}", "name": "张三丰" * 3},
            description="瓶子碎了，" * 40,
        )
        Ticket.objects.filter(pk=ticket.pk).update(status=status, priority=priority, **extra)
        made[name] = ticket.number
    return made


def login(page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", "pw-123456")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_selector("#queue")


def rows(page) -> list[str]:
    return page.eval_on_selector_all(
        "#queue-results a.ticket-link", "links => links.map(a => a.textContent.trim())"
    )


def history(page, step: int) -> None:
    """Back (-1) or Forward (1), as the browser's buttons do. htmx answers with a real reload of the
    entry's URL, which Playwright may report as the history navigation aborted: wait for the load."""
    move = page.go_back if step < 0 else page.go_forward
    try:
        move(wait_until="commit")
    except PlaywrightError:  # replaced by htmx's reload of the same URL
        pass
    page.wait_for_load_state("load")
    page.wait_for_selector("#queue-results")


def assert_rows(page, expected: list[str]) -> None:
    """The list shows `expected`. htmx pushes the URL before it swaps the rows in, so give the swap
    up to the page's timeout first; the assertion then reports what is there."""
    try:
        page.wait_for_function(
            "want => JSON.stringify([...document.querySelectorAll('#queue-results a.ticket-link')]"
            ".map(a => a.textContent.trim())) === JSON.stringify(want)",
            arg=expected,
        )
    except Exception:
        pass
    assert rows(page) == expected


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def assert_clean_url(url: str) -> None:
    keys = [key for key, _value in query_of(url)]
    assert len(keys) == len(set(keys)), f"a parameter repeats in {url}"


def exported(page) -> list[str]:
    with page.expect_download() as download_info:
        page.click("#export-csv")
    with open(download_info.value.path(), encoding="utf-8-sig") as f:
        return [line.split(",")[0] for line in f.read().splitlines()[1:]]


def select(page, name: str, value: str, wait_for: str) -> None:
    page.select_option(f"#queue-filters select[name={name}]", value)
    page.wait_for_url(f"**{wait_for}**")
    page.wait_for_function(
        "want => new URLSearchParams(location.search).get(want[0]) === want[1]"
        " && document.querySelector('#queue-filters select[name=' + want[0] + ']').value === want[1]",
        arg=[name, value],
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_filters_url_back_forward_and_export(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    t = make_tickets(shop)

    with chromium() as browser:
        page = browser.new_page(
            viewport={"width": 1400, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page.set_default_timeout(10_000)
        login(page, live_server.url)
        # Due first: the platform deadline in 40 min comes before the SLA due in 1 h.
        assert_rows(page, [t["new_high"], t["open_normal"], t["open_high"], t["pending_low"]])

        page.evaluate("window.__sameDocument = true")  # htmx swaps, no page load
        select(page, "status", "open", "status=open")
        assert_clean_url(page.url)
        assert_rows(page, [t["open_normal"], t["open_high"]])
        select(page, "priority", "high", "priority=high")
        assert_clean_url(page.url)
        assert dict(query_of(page.url))["status"] == "open"
        assert_rows(page, [t["open_high"]])
        assert page.evaluate("window.__sameDocument") is True
        assert exported(page) == [t["open_high"]]

        # Back: the first filter, in the controls and in the rows (and in the export).
        history(page, -1)
        page.wait_for_function("() => !location.search.includes('priority=high')")
        page.wait_for_function(
            "() => document.querySelector('#queue-filters select[name=priority]').value === ''"
        )
        assert page.input_value("#queue-filters select[name=status]") == "open"
        assert_rows(page, [t["open_normal"], t["open_high"]])
        assert exported(page) == [t["open_normal"], t["open_high"]]

        # Forward: the second filter again.
        history(page, 1)
        page.wait_for_function("() => location.search.includes('priority=high')")
        page.wait_for_function(
            "() => document.querySelector('#queue-filters select[name=priority]').value === 'high'"
        )
        assert page.input_value("#queue-filters select[name=status]") == "open"
        assert_rows(page, [t["open_high"]])
        assert exported(page) == [t["open_high"]]

        # With the keyboard: the swapped-in control keeps the focus.
        page.focus("#filter-sort")
        page.keyboard.press("ArrowDown")
        page.wait_for_url("**sort=newest**")
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.id === 'filter-sort'"
        )
        assert_clean_url(page.url)
        history(page, -1)
        page.wait_for_function(
            "() => document.querySelector('#queue-filters select[name=sort]').value === 'due'"
        )

        # Back twice: the unfiltered queue.
        history(page, -1)
        history(page, -1)
        page.wait_for_function(
            "() => document.querySelector('#queue-filters select[name=status]').value === ''"
        )
        assert_rows(page, [t["new_high"], t["open_normal"], t["open_high"], t["pending_low"]])

        # The overdue / due-soon checkboxes and a tab after htmx filtering keep the filters.
        page.check("#filter-due-soon")
        page.wait_for_url("**due_soon=1**")
        assert_clean_url(page.url)
        assert_rows(page, [t["new_high"], t["open_normal"]])
        page.click("a.tab[href*='tab=unassigned']")
        page.wait_for_url("**tab=unassigned**")
        assert dict(query_of(page.url)).get("due_soon") == "1"
        assert page.is_checked("#filter-due-soon")
        assert exported(page) == rows(page) == [t["new_high"], t["open_normal"]]
    wait_for_server_connections_to_close()


def assert_fits(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: the page scrolls sideways ({width}px)"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-CN", "en-US"])
def test_queue_and_ticket_page_fit_a_phone(live_server, settings, tmp_path, language):
    settings.MEDIA_ROOT = str(tmp_path)
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    t = make_tickets(shop)

    with chromium() as browser:
        page = browser.new_page(
            viewport=PHONE, locale=language, device_scale_factor=1, is_mobile=True, has_touch=True
        )
        page.set_default_timeout(10_000)
        login(page, live_server.url)
        if language.startswith("en"):
            page.click(".lang-switch button[value=en]")
            page.wait_for_selector("html[lang=en]")
        assert_fits(page, "queue")
        page.screenshot(path=f"/tmp/queue-390-{language}.png", full_page=True)
        # Controls are readable: no text smaller than 12 px, tap targets at least 32 px high.
        assert page.evaluate(
            "() => [...document.querySelectorAll('#queue select, #queue input[type=search], #queue .btn')]"
            ".every(el => el.getBoundingClientRect().height >= 32 && parseFloat(getComputedStyle(el).fontSize) >= 14)"
        )
        page.select_option("#queue-filters select[name=status]", "all")
        page.wait_for_url("**status=all**")
        assert_fits(page, "queue after filtering")

        page.goto(f"{live_server.url}/tickets/{t['new_high']}/")
        page.wait_for_selector(".ticket-head")
        page.wait_for_load_state("networkidle")
        assert_fits(page, "ticket page")
        page.screenshot(path=f"/tmp/ticket-390-{language}.png", full_page=True)
        height = page.evaluate("document.documentElement.scrollHeight")
        for n, top in enumerate(range(0, height, PHONE["height"])):  # screen by screen, to look at
            page.screenshot(
                path=f"/tmp/ticket-390-{language}-{n}.png",
                full_page=True,
                clip={
                    "x": 0,
                    "y": top,
                    "width": PHONE["width"],
                    "height": min(PHONE["height"], height - top),
                },
            )

        # The favicon: linked from the page and served, /favicon.ico too.
        icon = page.get_attribute("link[rel=icon]", "href")
        assert page.request.get(f"{live_server.url}{icon}").status == 200
        response = page.request.get(f"{live_server.url}/favicon.ico", max_redirects=2)
        assert response.status == 200 and response.headers["content-type"].startswith("image/")
    wait_for_server_connections_to_close()
