"""In a real headless Chromium: an agent proposes compensation above their authority, a supervisor
approves it in the inbox, and the agent's open ticket page shows it approved without a reload."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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
def test_supervisor_approves_what_the_agent_proposed_and_the_agent_sees_it(
    live_server, settings, tmp_path
):
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
        agent_context, agent = log_in(browser, live_server.url, "agent", language="en")
        agent.goto(f"{live_server.url}/tickets/{ticket.number}/")
        agent.evaluate("window.__noReload = true")

        # The panels load into the page; the glass bottle's first offer is ¥2 goodwill.
        agent.wait_for_selector(
            "[data-testid=compensation-options] tr[data-type=cash][data-amount='2.00']"
        )
        # ¥15 cash is outside the standard (goodwill is ¥2): it waits for a supervisor.
        agent.click("details.custom-proposal summary")
        agent.select_option("[data-testid=custom-proposal] select[name=type]", "cash")
        agent.fill("[data-testid=custom-proposal] input[name=amount]", "15.00")
        agent.fill("[data-testid=custom-proposal] input[name=note]", "customer is a long-time VIP")
        agent.click("[data-testid=custom-propose]")
        agent.wait_for_selector("[data-testid=compensation-status][data-status=pending_approval]")
        agent.wait_for_selector(".message:has-text('waits for a supervisor')")
        agent.evaluate("window.__noReload = true")

        boss_context, boss = log_in(browser, live_server.url, "boss", language="en")
        assert boss.inner_text("[data-testid=pending-count]") == "1"
        boss.click("[data-testid=nav-approvals]")
        boss.wait_for_selector(f"article.approval:has-text('{ticket.number}')")
        assert "¥15.00" in boss.inner_text("[data-testid=approval-amount]")
        assert "customer is a long-time VIP" in boss.inner_text("article.approval")
        approve = boss.locator("form:has([data-testid=inbox-approve])")
        approve.locator("input[name=note]").fill("ok for a VIP")
        boss.click("[data-testid=inbox-approve]")
        boss.wait_for_selector("[data-testid=inbox-empty]")
        boss.wait_for_selector(
            "[data-testid=pending-count]", state="detached"
        )  # the nav count follows
        boss.screenshot(path="/tmp/approvals.png", full_page=True)

        # The agent's page polls the list: approved, with the supervisor's note, without a reload.
        agent.wait_for_selector(
            "[data-testid=compensation-status][data-status=approved]", timeout=15_000
        )
        agent.wait_for_selector("#compensation-list:has-text('ok for a VIP')")
        assert agent.evaluate("window.__noReload") is True, "the page was reloaded"
        agent.screenshot(path="/tmp/ticket_compensation.png", full_page=True)

        boss_context.close()
        agent_context.close()

    wait_for_server_connections_to_close()
