"""What the timers do, in-process: claimed by the sweep, fired once, re-checked against the ticket."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import Notification
from sla import services as sla
from sla.models import OutboundContact, Timer, TimerKind, TimerState
from tests.factories import fire_timer, make_ticket, staff_member, ticket_payload
from tickets import services
from tickets.models import SatisfactionSurvey, Ticket, TicketEvent
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def people(shop):
    return {
        "agent": staff_member(shop, "agent", username="agent"),
        "supervisor": staff_member(shop, "supervisor", username="supervisor"),
        "admin": staff_member(shop, "admin", username="boss"),
    }


def new_ticket(shop, when="2026-03-10 10:00", **overrides):
    with time_machine.travel(at(when), tick=False):
        return make_ticket(shop, **overrides)


def sweep(when: str) -> list[int]:
    """One beat tick at `when`, firing what it claimed in-process (as a worker would)."""
    claimed = []
    with time_machine.travel(at(when), tick=False):
        sla.timers_sweep(enqueue=claimed.extend)
        from django.db import connection

        # The claim's on_commit runs at once inside the test's transaction only if captured;
        # the ids are also what timers_claim_due returned.
        if not claimed:
            claimed = list(
                Timer.objects.filter(state=TimerState.CLAIMED).values_list("id", flat=True)
            )
        assert connection.in_atomic_block
        for timer_id in claimed:
            fire_timer(timer_id)
    return claimed


def live(ticket) -> dict:
    return {
        t.kind: t.due_at
        for t in Timer.objects.filter(ticket=ticket, state__in=["pending", "claimed"])
    }


def test_a_new_ticket_gets_its_warning_and_breach_timers(shop):
    ticket = new_ticket(shop)
    assert live(ticket) == {
        TimerKind.FIRST_RESPONSE_WARNING: at("2026-03-10 10:48"),  # 80 % of 60 business minutes
        TimerKind.FIRST_RESPONSE_BREACH: at("2026-03-10 11:00"),
        TimerKind.RESOLUTION_WARNING: at("2026-03-12 13:36"),  # 80 % of 27 business hours
        TimerKind.RESOLUTION_BREACH: at("2026-03-13 10:00"),
    }


def test_breach_escalates_once_records_the_timeline_and_sends_the_webhook(shop, people):
    WebhookEndpoint.objects.create(
        shop=shop, url="https://shop.example/hook", events=["ticket.sla_breached"], secret="s"
    )
    ticket = new_ticket(shop)
    services.ticket_assign(
        ticket=ticket, assignee=people["agent"], actor=services.Actor.staff(people["supervisor"])
    )
    assert len(sweep("2026-03-10 10:50")) == 1  # the warning
    assert Notification.objects.filter(kind="sla_warning", recipient=people["agent"]).count() == 1
    fired = sweep("2026-03-10 11:01")
    assert len(fired) == 1
    ticket.refresh_from_db()
    assert ticket.sla_breached_at == at("2026-03-10 11:01")
    breach = TicketEvent.objects.get(ticket=ticket, kind="sla", data__what="breached")
    assert sorted(breach.data["escalated_to"]) == ["boss", "supervisor"]
    assert set(
        Notification.objects.filter(kind="sla_breached").values_list(
            "recipient__username", flat=True
        )
    ) == {"agent", "supervisor", "boss"}
    event = WebhookEvent.objects.get(type="ticket.sla_breached")
    assert event.data["number"] == ticket.number and event.data["target"] == "first_response"
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    # A second delivery of the same task, and a second sweep, change nothing.
    assert fire_timer(fired[0]) == "already done"
    assert sweep("2026-03-10 11:05") == []
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla", data__what="breached").count() == 1
    assert Notification.objects.filter(kind="sla_breached").count() == 3


def test_the_first_public_reply_meets_the_first_response_target(shop, people):
    ticket = new_ticket(shop)
    with time_machine.travel(at("2026-03-10 10:20"), tick=False):
        services.message_add(
            ticket=ticket,
            body="internal",
            actor=services.Actor.staff(people["agent"]),
            internal=True,
        )
        assert TimerKind.FIRST_RESPONSE_BREACH in live(ticket)  # an internal note is not a response
        services.message_add(
            ticket=ticket, body="您好，我们马上处理", actor=services.Actor.staff(people["agent"])
        )
    assert set(live(ticket)) == {TimerKind.RESOLUTION_WARNING, TimerKind.RESOLUTION_BREACH}
    sweep("2026-03-10 11:30")
    ticket.refresh_from_db()
    assert ticket.sla_breached_at is None


def test_a_claimed_timer_whose_ticket_moved_on_is_cancelled_not_fired(shop, people):
    ticket = new_ticket(shop)
    with time_machine.travel(at("2026-03-10 11:01"), tick=False):
        ids = sla.timers_claim_due(now=at("2026-03-10 11:01"), limit=10)
        services.message_add(
            ticket=ticket, body="您好", actor=services.Actor.staff(people["agent"])
        )
        results = [fire_timer(i) for i in ids]
    assert results == ["cancelled", "cancelled"]
    ticket.refresh_from_db()
    assert ticket.sla_breached_at is None and not Notification.objects.exists()


def test_pending_customer_pauses_the_sla_timers_and_auto_closes_after_7_days_in_the_contact_window(
    shop, people
):
    ticket = new_ticket(shop)
    with time_machine.travel(at("2026-03-10 10:10"), tick=False):
        services.message_add(
            ticket=ticket, body="请补充照片", actor=services.Actor.staff(people["agent"])
        )
        services.ticket_transition(
            ticket=ticket, action="wait_customer", actor=services.Actor.staff(people["agent"])
        )
    assert live(ticket) == {TimerKind.AUTO_CLOSE: at("2026-03-17 10:10")}
    sweep("2026-03-13 12:00")  # the resolution deadline passes while paused: nothing happens
    ticket.refresh_from_db()
    assert ticket.sla_breached_at is None and ticket.status == "pending_customer"
    sweep("2026-03-17 10:11")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    contact = TicketEvent.objects.get(ticket=ticket, kind="contact")
    assert contact.data["purpose"] == "auto_close" and contact.data["to"] == "138****0000"
    assert OutboundContact.objects.filter(ticket=ticket).count() == 1


def test_contact_outside_the_window_is_deferred_to_the_next_window_never_dropped(shop, people):
    ticket = new_ticket(shop, when="2026-03-10 09:00")
    with time_machine.travel(at("2026-03-10 09:05"), tick=False):
        services.message_add(
            ticket=ticket, body="请补充照片", actor=services.Actor.staff(people["agent"])
        )
    with time_machine.travel(at("2026-03-10 19:30"), tick=False):
        services.ticket_transition(
            ticket=ticket, action="wait_customer", actor=services.Actor.staff(people["agent"])
        )
    sweep("2026-03-17 19:31")  # due, but 19:31 is after the 10:00-18:00 window
    timer = Timer.objects.get(ticket=ticket, kind=TimerKind.AUTO_CLOSE)
    assert timer.state == TimerState.PENDING and timer.due_at == at("2026-03-18 10:00")
    assert Ticket.objects.get(pk=ticket.pk).status == "pending_customer"
    assert sweep("2026-03-18 09:59") == []
    sweep("2026-03-18 10:00")
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


def test_at_most_n_contacts_a_day_per_customer(shop, people):
    shop.sla_settings = {"max_contacts_per_day": 2, "follow_up_delay_minutes": 0}
    shop.save()
    tickets = []
    for n in range(3):
        payload = ticket_payload()
        payload["order"]["order_no"] = f"T{n}"
        ticket = new_ticket(shop, order=payload["order"])
        with time_machine.travel(at("2026-03-10 10:30"), tick=False):
            services.ticket_transition(
                ticket=ticket, action="open", actor=services.Actor.staff(people["agent"])
            )
            services.ticket_transition(
                ticket=ticket, action="resolve", actor=services.Actor.staff(people["agent"])
            )
        tickets.append(ticket)
    sweep("2026-03-10 10:31")
    assert OutboundContact.objects.count() == 2  # the same customer: the third waits for tomorrow
    deferred = Timer.objects.get(kind=TimerKind.FOLLOW_UP, state=TimerState.PENDING)
    assert deferred.due_at == at("2026-03-11 10:00")
    sweep("2026-03-11 10:00")
    assert OutboundContact.objects.count() == 3
    assert SatisfactionSurvey.objects.count() == 3


def test_resolution_sends_the_follow_up_with_a_survey_link_once(shop, people):
    ticket = new_ticket(shop)
    with time_machine.travel(at("2026-03-10 11:00"), tick=False):
        services.ticket_transition(
            ticket=ticket, action="open", actor=services.Actor.staff(people["agent"])
        )
        services.ticket_transition(
            ticket=ticket, action="resolve", actor=services.Actor.staff(people["agent"])
        )
    assert live(ticket) == {TimerKind.FOLLOW_UP: at("2026-03-10 12:00")}
    sweep("2026-03-10 12:00")
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    contact = OutboundContact.objects.get(ticket=ticket)
    assert f"/survey/{survey.token}/" in contact.body
    # Reopen and resolve again: the follow-up is not sent twice.
    with time_machine.travel(at("2026-03-10 13:00"), tick=False):
        services.ticket_transition(
            ticket=ticket, action="reopen", actor=services.Actor.staff(people["agent"])
        )
        services.ticket_transition(
            ticket=ticket, action="resolve", actor=services.Actor.staff(people["agent"])
        )
    assert TimerKind.FOLLOW_UP not in live(ticket)


def test_survey_accepts_one_answer(shop, client):
    ticket = new_ticket(shop)
    survey = sla.survey_for(ticket=ticket, now=at("2026-03-10 12:00"))
    page = client.get(f"/survey/{survey.token}/")
    assert page.status_code == 200 and "★" in page.content.decode()
    assert client.post(f"/survey/{survey.token}/", {"score": "9"}).status_code == 400
    assert (
        client.post(f"/survey/{survey.token}/", {"score": "4", "comment": "还行"}).status_code
        == 200
    )
    second = client.post(f"/survey/{survey.token}/", {"score": "1", "comment": "改主意了"})
    assert second.status_code == 409
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "还行")
    assert client.get("/survey/not-a-token/").status_code == 404
    assert (
        TicketEvent.objects.filter(ticket=ticket, kind="survey", data__what="answered").count() == 1
    )


def test_pending_internal_reminds_a_daily_progress_update(shop, people):
    ticket = new_ticket(shop)
    with time_machine.travel(at("2026-03-10 10:30"), tick=False):
        services.ticket_transition(
            ticket=ticket, action="open", actor=services.Actor.staff(people["agent"])
        )
        services.ticket_transition(
            ticket=ticket, action="wait_internal", actor=services.Actor.staff(people["agent"])
        )
    assert live(ticket)[TimerKind.PROGRESS_REMINDER] == at("2026-03-11 10:30")
    sweep("2026-03-11 10:30")
    assert live(ticket)[TimerKind.PROGRESS_REMINDER] == at("2026-03-12 10:30")
    with time_machine.travel(at("2026-03-11 11:00"), tick=False):
        services.ticket_transition(
            ticket=ticket, action="open", actor=services.Actor.staff(people["agent"])
        )
    assert TimerKind.PROGRESS_REMINDER not in live(ticket)
    # Unassigned, so the shop's supervisors (supervisor and admin) are reminded, once.
    assert Notification.objects.filter(kind="progress_reminder").count() == 2


def test_the_platform_deadline_escalates_well_before_the_marketplace_refunds(shop, people):
    ticket = new_ticket(shop, platform_deadline_at=at("2026-03-12 10:00"))
    assert live(ticket)[TimerKind.PLATFORM_DEADLINE] == at(
        "2026-03-12 04:00"
    )  # 6 h lead by default
    sweep("2026-03-12 04:00")
    assert Notification.objects.filter(
        kind="platform_deadline", recipient=people["supervisor"]
    ).exists()
    assert (
        TicketEvent.objects.filter(
            ticket=ticket, kind="sla", data__what="platform_deadline"
        ).count()
        == 1
    )


def test_late_shipment_warns_before_the_72_hour_deadline(shop, people):
    payload = ticket_payload(dispute_type="late_shipment")
    payload["order"].update(paid_at=at("2026-03-09 10:00"), shipped_at=None)
    ticket = new_ticket(shop, dispute_type="late_shipment", order=payload["order"])
    assert live(ticket)[TimerKind.SHIPPING_DEADLINE] == at(
        "2026-03-12 06:00"
    )  # 72 h after payment, less 4 h
    sweep("2026-03-12 06:00")
    assert Notification.objects.filter(kind="shipping_deadline").count() == 2


def test_reship_tracking_number_goes_to_the_customer(shop, people):
    ticket = new_ticket(shop)
    with time_machine.travel(at("2026-03-10 21:00"), tick=False):
        sla.reship_tracking_schedule(ticket=ticket, tracking_no="SF999", courier="SF")
    sweep("2026-03-10 21:01")  # outside the contact window: tomorrow 10:00
    assert not OutboundContact.objects.exists()
    sweep("2026-03-11 10:00")
    assert "SF999" in OutboundContact.objects.get(ticket=ticket, purpose="reship_tracking").body


def test_reaper_frees_claims_whose_task_was_lost(shop):
    ticket = new_ticket(shop)
    ids = sla.timers_claim_due(now=at("2026-03-10 11:00"), limit=10)
    assert len(ids) == 2
    assert sla.timers_reap(now=at("2026-03-10 11:01"), timeout_seconds=300) == 0
    assert sla.timers_reap(now=at("2026-03-10 11:06"), timeout_seconds=300) == 2
    fired = sweep("2026-03-10 11:06")
    assert len(fired) == 2
    assert Timer.objects.get(ticket=ticket, kind=TimerKind.FIRST_RESPONSE_BREACH).attempts == 2


def test_the_sweep_uses_the_partial_index(shop):
    from django.db import connection

    new_ticket(shop)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM sla_timer WHERE state = 'pending' AND due_at <= now() ORDER BY due_at LIMIT 1000 FOR UPDATE SKIP LOCKED"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "timer_pending_due" in plan


def test_one_failing_timer_in_a_chunk_stays_claimed_and_the_others_are_done(shop, monkeypatch):
    ticket = new_ticket(shop)
    ids = sla.timers_claim_due(now=at("2026-03-13 11:00"), limit=10)
    assert len(ids) == 4

    def broken(**kwargs):
        raise RuntimeError("SMS gateway exploded")

    monkeypatch.setitem(sla.HANDLERS, TimerKind.RESOLUTION_BREACH, broken)
    with time_machine.travel(at("2026-03-13 11:00"), tick=False):
        results = sla.timers_fire(timer_ids=ids)
    assert sorted(results.values()) == ["error", "fired", "fired", "fired"]
    assert (
        Timer.objects.get(ticket=ticket, kind=TimerKind.RESOLUTION_BREACH).state
        == TimerState.CLAIMED
    )
    assert not TicketEvent.objects.filter(
        ticket=ticket, kind="sla", data__target="resolution", data__what="breached"
    ).exists()


def test_a_timer_that_keeps_failing_is_parked_with_its_error_and_shown_to_admins(
    shop, monkeypatch, settings, client
):
    settings.SLA_TIMER_MAX_ATTEMPTS = 3
    ticket = new_ticket(shop)

    def broken(**kwargs):
        raise RuntimeError("year 1 is out of range")

    monkeypatch.setitem(sla.HANDLERS, TimerKind.RESOLUTION_BREACH, broken)
    timer = Timer.objects.get(ticket=ticket, kind=TimerKind.RESOLUTION_BREACH)
    results = []
    for minute in range(5):  # each pass: the reaper frees the claim, the sweep claims it again
        with time_machine.travel(at(f"2026-03-13 11:0{minute}"), tick=False):
            sla.timers_reap(now=at(f"2026-03-13 11:0{minute}"), timeout_seconds=0)
            ids = sla.timers_claim_due(now=at(f"2026-03-13 11:0{minute}"), limit=10)
            results.append(sla.timers_fire(timer_ids=ids).get(timer.pk))
    assert results == [
        "error",
        "error",
        "parked",
        None,
        None,
    ]  # parked on the third claim, then left alone
    timer.refresh_from_db()
    assert (
        timer.state == TimerState.PARKED
        and timer.attempts == 3
        and "year 1 is out of range" in timer.result
    )
    client.force_login(staff_member(shop, "admin", username="boss"))
    page = client.get("/settings/demo/sla/").content.decode()
    assert 'data-testid="parked-timers"' in page and ticket.number in page
