"""In a real headless Chromium, in the workspace's default language (zh-Hans): an agent pastes a
phone number into the compensation form's "其他金额" amount. The form says why in Chinese, keeps what
was typed, stores nothing — and the supervisor's approvals inbox still loads."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disputes.models import Compensation
from tests.browser.test_workspace_browser import (
    chromium,
    log_in,
    reseed_reference_data,
    wait_for_server_connections_to_close,
)
from tests.factories import ShopFactory, make_ticket, png_bytes, staff_member
from tickets import services as ticket_services

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_huge_amount_is_explained_kept_and_breaks_nothing(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    reseed_reference_data()
    shop = ShopFactory(code="demo", name="Demo shop")
    staff_member(shop, "agent", username="agent")
    staff_member(shop, "supervisor", username="boss")
    ticket = make_ticket(shop)
    ticket_services.attachment_add(
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("broken.png", png_bytes()),
        kind="photo",
        actor=ticket_services.Actor.shop(shop),
    )

    with chromium() as browser:
        agent_context, agent = log_in(browser, live_server.url, "agent")
        agent.goto(f"{live_server.url}/tickets/{ticket.number}/")
        agent.wait_for_selector("[data-testid=compensation-options]")
        agent.click("details.custom-proposal summary")
        agent.select_option("[data-testid=custom-proposal] select[name=type]", "cash")
        agent.fill("[data-testid=custom-amount]", "12345678901")
        agent.fill("[data-testid=custom-proposal] input[name=note]", "电话号码贴错了")
        agent.click("[data-testid=custom-propose]")

        error = agent.wait_for_selector("[data-testid=custom-proposal-error]")
        assert error.inner_text() == "金额:须小于 ¥10,000,000,000。"
        assert agent.input_value("[data-testid=custom-amount]") == "12345678901"
        assert (
            agent.input_value("[data-testid=custom-proposal] input[name=note]") == "电话号码贴错了"
        )
        assert agent.input_value("[data-testid=custom-proposal] select[name=type]") == "cash"
        assert agent.is_visible("[data-testid=custom-amount]")  # the form stays open where it was
        agent.screenshot(path="/tmp/huge_amount.png", full_page=True)

        # A sane amount from the same form still goes through.
        agent.fill("[data-testid=custom-amount]", "15.00")
        agent.click("[data-testid=custom-propose]")
        agent.wait_for_selector("[data-testid=compensation-status][data-status=pending_approval]")
        assert [str(c.amount) for c in Compensation.objects.all()] == ["15.00"]

        boss_context, boss = log_in(browser, live_server.url, "boss")
        response = boss.goto(f"{live_server.url}/approvals/")
        assert response.status == 200
        entry = boss.wait_for_selector(f"article.approval:has-text('{ticket.number}')")
        assert "¥21.00" in boss.inner_text("[data-testid=inbox-order-amount]")
        assert "¥15.00" in entry.inner_text()

        boss_context.close()
        agent_context.close()

    wait_for_server_connections_to_close()
