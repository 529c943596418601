"""A supervisor dismisses a risk flag from the ticket page in headless Chromium (issue 16): the
agent sees the flag and no button; the supervisor writes why, and the flag shows as dismissed
with the note, on the timeline too, in Chinese and in English."""

import pytest

from risk.samples import exif_taken, jpeg_bytes, sample_photo
from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, staff_member
from tests.risk.test_risk import add_photo, lone_ticket


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_dismisses_a_flag_from_the_ticket_page(live_server, media_root):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    staff_member(shop, "supervisor", username="boss")
    tickets = {}
    for seed, language in enumerate(("zh-hans", "en")):
        ticket = lone_ticket(shop, f"B-{language}")
        picture = sample_photo(90 + seed)  # two different pictures: no reuse between them
        add_photo(ticket, jpeg_bytes(picture, exif=exif_taken("2026:01:01 12:00:00")))
        tickets[language] = ticket.number

    with chromium() as browser:
        for language, texts in {
            "zh-hans": ("照片早于订单", "已排除", "买家另有一单同款", "风险标记已排除"),
            "en": (
                "Photo older than the order",
                "dismissed",
                "Same item bought twice",
                "Risk flag dismissed",
            ),
        }.items():
            number = tickets[language]
            context, page = log_in(browser, live_server.url, "agent", language=language)
            page.goto(f"{live_server.url}/tickets/{number}/")
            page.wait_for_selector("[data-testid=risk-section]")
            assert texts[0].lower() in page.inner_text("[data-testid=risk-section]").lower()
            assert page.locator("[data-testid=risk-dismiss-form]").count() == 0
            context.close()

            context, page = log_in(browser, live_server.url, "boss", language=language)
            page.goto(f"{live_server.url}/tickets/{number}/")
            form = page.locator("[data-testid=risk-dismiss-form]")
            assert form.count() == 1
            form.locator("textarea[name=note]").fill(texts[2])
            form.locator("button[type=submit]").click()
            page.wait_for_selector("[data-testid=risk-dismissed]")
            section = page.inner_text("[data-testid=risk-section]").lower()
            assert texts[1].lower() in section and texts[2].lower() in section, section
            assert page.locator("[data-testid=risk-released]").count() == 1
            assert page.locator("[data-testid=risk-dismiss-form]").count() == 0
            timeline = page.inner_text("#timeline").lower()
            assert texts[3].lower() in timeline and texts[2].lower() in timeline, timeline
            context.close()

    wait_for_server_connections_to_close()
