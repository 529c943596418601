"""The timers a ticket wants and keeping them in step with it: run by the domain events of
tickets (sla.subscribers) inside the ticket's transaction, with the ticket row locked. The
ticket's own clock (due times, pause and resume) is tickets.clock. Nothing here sends anything."""

import datetime as dt

from django.utils import timezone

from aftersales.db import instances_insert
from disputes.services import shipping_deadline
from shops.business_time import subtract_minutes
from shops.sla import cached_sla
from sla.models import LIVE_STATES, Timer, TimerKind, TimerState
from tickets.clock import clock_running, sla_target
from tickets.states import ACTIVE_STATUSES, Status

# Kinds that act once per ticket: once done, never scheduled again (a reopen does not re-warn).
ONE_SHOT = frozenset(
    {
        TimerKind.FIRST_RESPONSE_WARNING,
        TimerKind.FIRST_RESPONSE_BREACH,
        TimerKind.RESOLUTION_WARNING,
        TimerKind.RESOLUTION_BREACH,
        TimerKind.PLATFORM_DEADLINE,
        TimerKind.SHIPPING_DEADLINE,
        TimerKind.FOLLOW_UP,
    }
)
# Kinds whose due time is set when they are created (or by their handler), not derived from the ticket.
SELF_TIMED = frozenset({TimerKind.PROGRESS_REMINDER, TimerKind.RESHIP_TRACKING})


def warning_at(ticket, due: dt.datetime, minutes: int) -> dt.datetime:
    """When `warning_ratio` of a target of `minutes` is used up: due minus the rest."""
    sla, target, calendar = sla_target(ticket)
    rest = minutes * (1 - sla["warning_ratio"])
    return subtract_minutes(due, rest, calendar, business_time=target.get("business_time", True))


def timers_wanted(ticket, *, now: dt.datetime | None = None) -> dict[str, dt.datetime | None]:
    """kind -> due time of every timer the ticket needs now (None: keep the live one's time,
    or start it from now)."""
    sla, target, _ = sla_target(ticket)
    wanted: dict[str, dt.datetime | None] = {}
    active = ticket.status in ACTIVE_STATUSES
    if clock_running(ticket):
        if ticket.first_responded_at is None and ticket.first_response_due_at:
            wanted[TimerKind.FIRST_RESPONSE_WARNING] = warning_at(
                ticket, ticket.first_response_due_at, target["first_response_minutes"]
            )
            wanted[TimerKind.FIRST_RESPONSE_BREACH] = ticket.first_response_due_at
        if ticket.resolution_due_at:
            wanted[TimerKind.RESOLUTION_WARNING] = warning_at(
                ticket, ticket.resolution_due_at, target["resolution_minutes"]
            )
            wanted[TimerKind.RESOLUTION_BREACH] = ticket.resolution_due_at
    if active and ticket.platform_deadline_at:
        wanted[TimerKind.PLATFORM_DEADLINE] = ticket.platform_deadline_at - dt.timedelta(
            minutes=sla["platform_deadline_lead_minutes"]
        )
    if (
        active
        and ticket.dispute_type.rule_code == "late_shipment"
        and ticket.order.paid_at
        and not ticket.order.shipped_at
    ):
        wanted[TimerKind.SHIPPING_DEADLINE] = shipping_deadline(ticket=ticket) - dt.timedelta(
            minutes=sla["shipping_warning_minutes"]
        )
    if ticket.status == Status.PENDING_INTERNAL:
        wanted[TimerKind.PROGRESS_REMINDER] = None
    if ticket.status == Status.PENDING_CUSTOMER and ticket.sla_paused_at:
        wanted[TimerKind.AUTO_CLOSE] = ticket.sla_paused_at + dt.timedelta(
            days=sla["auto_close_days"]
        )
    if ticket.status == Status.RESOLVED and ticket.resolved_at:
        wanted[TimerKind.FOLLOW_UP] = ticket.resolved_at + dt.timedelta(
            minutes=sla["follow_up_delay_minutes"]
        )
    return wanted


def _default_due(ticket, kind: str, now: dt.datetime) -> dt.datetime:
    sla, _ = cached_sla(ticket.shop)
    if kind == TimerKind.PROGRESS_REMINDER:
        return now + dt.timedelta(hours=sla["progress_update_hours"])
    return now


def timers_sync(ticket, *, now: dt.datetime | None = None, new: bool = False) -> None:
    """Make the ticket's live timers match timers_wanted: create the missing, move the pending
    ones whose time changed, cancel the pending ones no longer wanted. A claimed timer is left
    alone: its task re-checks the ticket before acting."""
    now = now or timezone.now()
    wanted = timers_wanted(ticket, now=now)
    existing = (
        []
        if new
        else list(
            Timer.objects.filter(
                ticket_id=ticket.pk, state__in=(*LIVE_STATES, TimerState.DONE)
            ).only("id", "kind", "state", "due_at")
        )
    )
    live = {t.kind: t for t in existing if t.state in LIVE_STATES}
    done = {t.kind for t in existing if t.state == TimerState.DONE}
    to_create = []
    for kind, due in wanted.items():
        timer = live.get(kind)
        if timer is None:
            if kind in ONE_SHOT and kind in done:
                continue
            to_create.append(
                Timer(ticket_id=ticket.pk, kind=kind, due_at=due or _default_due(ticket, kind, now))
            )
        elif due is not None and timer.state == TimerState.PENDING and timer.due_at != due:
            Timer.objects.filter(pk=timer.pk, state=TimerState.PENDING).update(due_at=due)
    stale = [
        t.pk
        for kind, t in live.items()
        if kind not in wanted and kind not in SELF_TIMED and t.state == TimerState.PENDING
    ]
    if TimerKind.PROGRESS_REMINDER in live and TimerKind.PROGRESS_REMINDER not in wanted:
        stale.append(live[TimerKind.PROGRESS_REMINDER].pk)
    if stale:
        Timer.objects.filter(pk__in=stale, state=TimerState.PENDING).update(
            state=TimerState.CANCELLED, done_at=now
        )
    if to_create:
        instances_insert(to_create)  # (a create-ticket's four timers: aftersales.db)


def timer_start(ticket, *, kind: str, due_at: dt.datetime, data: dict | None = None) -> Timer:
    """A self-timed timer (e.g. the re-shipment tracking number); replaces a pending one of that kind."""
    Timer.objects.filter(ticket_id=ticket.pk, kind=kind, state=TimerState.PENDING).update(
        state=TimerState.CANCELLED, done_at=timezone.now()
    )
    return Timer.objects.create(ticket_id=ticket.pk, kind=kind, due_at=due_at, data=data or {})
