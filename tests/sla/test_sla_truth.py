"""SLA truth: `sla.breached` only for a deadline really missed (the API and the ticket page use
one function), and the 80 % warning never sent after the deadline it warns of."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

from notifications.models import Notification
from sla import services as sla
from sla.models import Timer, TimerKind
from tests.factories import make_ticket, staff_member
from tickets import services
from tickets.models import Ticket, TicketEvent
from tickets.selectors import sla_breached

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def _fire(kind, ticket, when):
    timer = Timer.objects.get(ticket=ticket, kind=kind, state="pending")
    with time_machine.travel(at(when), tick=False):
        ids = sla.timers_claim_due(now=at(when), limit=100)
        assert timer.pk in ids
        sla.timers_fire(timer_ids=[timer.pk])
    return Timer.objects.get(pk=timer.pk)


def test_a_late_sweep_does_not_send_the_warning_of_a_deadline_already_passed(shop):
    agent = staff_member(shop, "agent", username="agent")
    staff_member(shop, "supervisor", username="supervisor")
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        ticket = make_ticket(shop)
        services.ticket_assign(ticket=ticket, assignee=agent, actor=services.Actor.system())
    # First response due 11:00, its warning at 10:48; the worker was down until 11:30.
    Timer.objects.filter(
        ticket=ticket, kind=TimerKind.FIRST_RESPONSE_BREACH
    ).delete()  # only the warning is due
    timer = _fire(TimerKind.FIRST_RESPONSE_WARNING, ticket, "2026-03-10 11:30")
    assert timer.state == "done" and timer.result == "skipped: already due"
    assert not Notification.objects.filter(kind="sla_warning").exists()
    assert not TicketEvent.objects.filter(ticket=ticket, kind="sla", data__what="warning").exists()


def test_a_warning_on_time_is_still_sent(shop):
    agent = staff_member(shop, "agent", username="agent")
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        ticket = make_ticket(shop)
        services.ticket_assign(ticket=ticket, assignee=agent, actor=services.Actor.system())
    timer = _fire(TimerKind.FIRST_RESPONSE_WARNING, ticket, "2026-03-10 10:49")
    assert timer.result == "warned"
    assert Notification.objects.filter(kind="sla_warning", recipient=agent).count() == 1


def _waiting_ticket(shop, agent, *, wait_at: str):
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        ticket = make_ticket(shop)
    with time_machine.travel(at("2026-03-10 10:30"), tick=False):
        services.message_add(
            ticket=ticket, body="您好", actor=services.Actor.staff(agent)
        )  # answered in time
    with time_machine.travel(at(wait_at), tick=False):
        services.ticket_transition(
            ticket=ticket, action="wait_customer", actor=services.Actor.staff(agent)
        )
    return Ticket.objects.get(pk=ticket.pk)


def test_a_paused_ticket_is_not_breached_because_its_stored_due_time_passed(
    shop, agent_client, agent, client
):
    ticket = _waiting_ticket(shop, agent, wait_at="2026-03-11 10:00")  # resolution due 03-13 10:00
    assert ticket.status == "pending_customer" and ticket.sla_paused_at is not None
    with time_machine.travel(at("2026-03-20 10:00"), tick=True):  # long after the stored due time
        assert sla_breached(ticket) is False
        body = agent_client.get(f"/api/v1/tickets/{ticket.number}/").json()
        assert body["sla"]["breached"] is False
        client.force_login(agent)
        assert "badge-breached" not in client.get(f"/tickets/{ticket.number}/").content.decode()


def test_a_breach_before_the_pause_stays_a_breach(shop, agent_client, agent, client):
    ticket = _waiting_ticket(shop, agent, wait_at="2026-03-11 10:00")
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_breached_at=at("2026-03-11 09:00")
    )  # recorded by the sweep
    ticket.refresh_from_db()
    assert sla_breached(ticket) is True
    assert agent_client.get(f"/api/v1/tickets/{ticket.number}/").json()["sla"]["breached"] is True
    client.force_login(agent)
    assert "badge-breached" in client.get(f"/tickets/{ticket.number}/").content.decode()


def test_a_deadline_missed_before_the_pause_is_a_breach_while_paused(shop, agent):
    # Not answered: first response was due 11:00; the wait began at 12:00, the sweep had not run.
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        ticket = make_ticket(shop)
    with time_machine.travel(at("2026-03-10 12:00"), tick=False):
        services.ticket_transition(ticket=ticket, action="open", actor=services.Actor.staff(agent))
        services.ticket_transition(
            ticket=ticket, action="wait_customer", actor=services.Actor.staff(agent)
        )
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.sla_breached_at is None
    assert sla_breached(ticket, now=at("2026-03-20 10:00")) is True
