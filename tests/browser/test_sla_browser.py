"""In Chromium: a supervisor sees the breach notification and the escalated ticket; the customer's
survey page takes one answer and refuses a second (from a tab opened before the first was sent)."""

import datetime as dt

import pytest
import time_machine

from sla import services as sla
from tests.browser.test_workspace_browser import (
    chromium,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, fire_timer, make_ticket, staff_member
from tickets.models import SatisfactionSurvey

PAST = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_supervisor_sees_the_breach_and_the_customer_answers_the_survey_once(live_server):
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "supervisor", username="supervisor")
    with time_machine.travel(PAST, tick=False):
        ticket = make_ticket(shop)
    fired = []
    sla.timers_sweep(enqueue=lambda ids: fired.extend(fire_timer(i) for i in ids))
    assert (
        fired.count("fired") == 4
    )  # two warnings (swept after their deadlines: they only finish), two breaches
    survey = sla.survey_for(ticket=ticket, now=PAST)

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "supervisor")
        page.fill("input[name=password]", "pw-123456")
        page.click("form button[type=submit].btn-primary")
        page.wait_for_selector("[data-testid=bell-count]")
        # Unassigned ticket: the two breaches go to the supervisors; the 80 % warnings are not sent,
        # the sweep came after the deadlines they warn of.
        assert page.inner_text("[data-testid=bell-count]") == "2"
        page.click("[data-testid=bell]")
        item = page.locator(".notification-sla_breached", has_text=ticket.number).first
        item.wait_for()
        item.locator("button").click()  # open and mark read
        page.wait_for_url(f"**/tickets/{ticket.number}/")
        page.wait_for_selector("[data-testid=sla-breached-at]")
        page.wait_for_selector(".timeline .event-sla")
        page.screenshot(path="/tmp/sla_breached_ticket.png", full_page=True)
        assert page.locator("[data-testid=bell-count]").inner_text() == "1"

        customer = browser.new_context(locale="zh-CN")
        first, second = customer.new_page(), customer.new_page()
        for tab in (first, second):
            tab.goto(f"{live_server.url}/survey/{survey.token}/")
            tab.wait_for_selector("[data-testid=survey] form")
        first.check("input[name=score][value='4']")
        first.fill("textarea[name=comment]", "处理很快")
        first.click("[data-testid=survey] button[type=submit]")
        first.wait_for_selector("[data-testid=survey-done]")
        second.check("input[name=score][value='1']")
        with second.expect_response(lambda r: r.request.method == "POST") as answer:
            second.click("[data-testid=survey] button[type=submit]")
        assert answer.value.status == 409
        second.wait_for_selector("[data-testid=survey-error]")
        second.screenshot(path="/tmp/survey_second_answer.png", full_page=True)
        customer.close()

    wait_for_server_connections_to_close()
    survey = SatisfactionSurvey.objects.get(pk=survey.pk)
    assert (survey.score, survey.comment) == (4, "处理很快")
