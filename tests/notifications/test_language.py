"""Notifications are stored as a template and its parameters and rendered when read, so each
reader sees them in their own language, whatever language the writer (a worker) ran in."""

import html

from django.utils import translation

from notifications.models import Notification
from notifications.services import notification_send
from tests.factories import staff_member
from tests.sla.test_timers import new_ticket, sweep


def _page(client, user, language: str) -> str:
    client.force_login(user)
    client.cookies.load({"django_language": language})
    response = client.get("/notifications/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_breach_reads_in_the_readers_language(shop, client):
    supervisor = staff_member(shop, "supervisor", username="supervisor")
    ticket = new_ticket(shop)
    with translation.override("zh-hans"):  # the worker's language must not matter
        sweep("2026-03-10 11:01")
    breach = Notification.objects.get(kind="sla_breached", recipient=supervisor)
    assert breach.params["number"] == ticket.number

    english = _page(client, supervisor, "en")
    assert f"SLA breached: first response overdue — {ticket.number}" in english
    assert "Escalated to the shop's supervisors." in english

    chinese = _page(client, supervisor, "zh-hans")
    assert f"SLA breached: first response overdue — {ticket.number}" not in chinese
    assert ticket.number in chinese and "主管" in chinese


def test_a_users_own_words_travel_as_a_parameter_not_as_a_template(shop, client):
    agent = staff_member(shop, "agent", username="agent")
    notification_send(
        recipients=[agent],
        shop=shop,
        kind="approval_requested",
        title="Compensation ¥%(amount)s on %(number)s waits for your approval",
        body="%(note)s",
        params={"amount": "5.00", "number": "AS1", "note": "客户说 100% 不满意 %(x)s"},
    )
    page = _page(client, agent, "en")
    assert "Compensation ¥5.00 on AS1 waits for your approval" in page
    assert "客户说 100% 不满意 %(x)s" in page


def test_rows_written_before_params_show_as_written(shop, client):
    agent = staff_member(shop, "agent", username="agent")
    Notification.objects.create(
        recipient=agent, shop=shop, kind="sla_warning", title="旧的通知 50%", params=None
    )
    assert "旧的通知 50%" in _page(client, agent, "en")
