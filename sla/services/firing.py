"""Firing claimed timers. A timer acts in the same transaction that marks it done, with
its ticket and its own row locked, so a second delivery of the task finds it done and a task
killed mid-way leaves it claimed (the reaper frees it) with nothing half-written.

A task's chunk of timers is fired as a batch: its tickets and timers locked with one query
each, every timer re-checked and handled as alone, and what the handlers produce (timeline
events, notifications, webhook events) written with one statement per kind of row. If the
batch raises it is rolled back and the chunk fired one timer at a time, each in a savepoint."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sla.clock import SELF_TIMED, timers_sync, timers_wanted
from sla.models import Timer, TimerKind, TimerState
from sla.services.handlers import HANDLERS, Effects
from tickets.models import Customer, Ticket

logger = logging.getLogger(__name__)


# --- firing timers -----------------------------------------------------------------------

TICKET_RELATED = ("shop", "dispute_type", "customer", "order", "assignee")  # what _fire_one joins
# Kinds whose handlers only produce rows (Effects), fired as a batch; the others (customer
# contact, auto-close, the progress reminder's next timer) go one by one even inside a chunk.
BATCHED = frozenset(
    {
        TimerKind.FIRST_RESPONSE_WARNING,
        TimerKind.RESOLUTION_WARNING,
        TimerKind.FIRST_RESPONSE_BREACH,
        TimerKind.RESOLUTION_BREACH,
        TimerKind.PLATFORM_DEADLINE,
        TimerKind.SHIPPING_DEADLINE,
    }
)
FINISH_FIELDS = ["state", "result", "done_at"]
RESCHEDULE_FIELDS = ["state", "due_at", "claimed_at", "result"]


def timers_fire(*, timer_ids: list[int], now: dt.datetime | None = None) -> dict[int, str]:
    """Act on a chunk of claimed timers in one transaction (one commit, not one per timer):
    as a batch (timers_fire_batch); if that raises, it is rolled back and the chunk is fired
    one by one, each timer in its own savepoint, so one failure leaves only that timer claimed
    for the reaper. Tickets are locked in id order, so two chunks sharing tickets cannot deadlock."""
    try:
        with transaction.atomic():
            return timers_fire_batch(timer_ids=timer_ids, now=now)
    except Exception:
        logger.warning(
            "batch of %d timers failed; firing them one by one", len(timer_ids), exc_info=True
        )
    return timers_fire_each(timer_ids=timer_ids, now=now)


def timers_fire_batch(*, timer_ids: list[int], now: dt.datetime | None = None) -> dict[int, str]:
    """The chunk's tickets locked in one query (id order, then the timers in one), each timer
    re-checked and handled exactly as _fire_one does, and the rows written once per kind:
    a constant number of statements whatever the chunk's size. Call inside a transaction."""
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.locked()
        # The order is one per ticket (joined); shops, types and assignees are few (one query each).
        .select_related("order")
        .prefetch_related("shop", "dispute_type", "assignee")
        .filter(pk__in=Timer.objects.filter(pk__in=timer_ids).values("ticket_id"))
        .order_by("pk")
    }
    timers = list(
        Timer.objects.select_for_update().filter(pk__in=timer_ids).order_by("ticket_id", "pk")
    )
    at = now or timezone.now()
    effects = Effects(shop_ids={ticket.shop_id for ticket in tickets.values()})
    results, finished, rescheduled, alone = {}, [], [], []
    for timer in timers:
        if timer.state != TimerState.CLAIMED:
            results[timer.pk] = f"already {timer.state}"
        elif timer.kind not in BATCHED:
            alone.append(timer)
        else:
            results[timer.pk] = result = _act(
                ticket=tickets[timer.ticket_id], timer=timer, now=at, effects=effects
            )
            (rescheduled if result in ("moved", "deferred") else finished).append(timer)
    effects.write()
    by_outcome: dict[tuple[str, str], list[int]] = {}
    for timer in finished:  # one UPDATE per (state, result): a handful, whatever the chunk's size
        by_outcome.setdefault((timer.state, timer.result), []).append(timer.pk)
    for (state, result), ids in by_outcome.items():
        Timer.objects.filter(pk__in=ids).update(state=state, result=result, done_at=at)
    if rescheduled:  # each its own due time (rare: the ticket changed since the claim)
        Timer.objects.bulk_update(rescheduled, RESCHEDULE_FIELDS)
    if alone:
        _lock_customers({tickets[timer.ticket_id].customer_id for timer in alone})
    for timer in alone:
        results[timer.pk] = _fire_in_savepoint(
            timer_id=timer.pk, ticket_id=timer.ticket_id, now=now
        )
    return results


def timers_fire_each(*, timer_ids: list[int], now: dt.datetime | None = None) -> dict[int, str]:
    """The chunk one timer at a time, each in a savepoint, in (ticket, timer) order."""
    owners = dict(Timer.objects.filter(pk__in=timer_ids).values_list("id", "ticket_id"))
    with transaction.atomic():
        # Tickets, then customers, each in id order, as timers_fire_batch takes them.
        customers = (
            Ticket.objects.locked()
            .filter(pk__in=set(owners.values()))
            .order_by("pk")
            .values_list("customer_id", flat=True)
        )
        _lock_customers(set(customers))
        return {
            timer_id: _fire_in_savepoint(timer_id=timer_id, ticket_id=owners[timer_id], now=now)
            for timer_id in sorted(owners, key=lambda pk: (owners[pk], pk))
        }


def _lock_customers(customer_ids) -> None:
    """Lock the customers a chunk may contact, in id order, before any timer runs: each contact
    locks its customer (the daily cap), and two chunks taking them in ticket order could each
    hold one the other wants."""
    list(
        Customer.objects.select_for_update()
        .filter(pk__in=sorted(customer_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _fire_in_savepoint(*, timer_id: int, ticket_id: int, now: dt.datetime | None) -> str:
    try:
        with transaction.atomic():
            return _fire_one(timer_id=timer_id, ticket_id=ticket_id, now=now)
    except Exception as exc:
        logger.exception("timer %s failed", timer_id)
        return _timer_failed(timer_id=timer_id, error=exc)


def _timer_failed(*, timer_id: int, error: Exception) -> str:
    """Record the error on the timer. Below SLA_TIMER_MAX_ATTEMPTS claims it stays claimed and the
    reaper gives it another try; then it is parked, for an admin to see (the SLA settings page, the
    admin), instead of failing on every pass for ever."""
    text = f"error: {type(error).__name__}: {error}"[:200]
    timer = Timer.objects.filter(pk=timer_id, state=TimerState.CLAIMED)
    if timer.filter(attempts__gte=settings.SLA_TIMER_MAX_ATTEMPTS).update(
        state=TimerState.PARKED, result=text, done_at=timezone.now()
    ):
        return "parked"
    timer.update(result=text)
    return "error"


def _fire_one(*, timer_id: int, ticket_id: int, now: dt.datetime | None) -> str:
    # Ticket first, then timer: the order ticket services use (they lock the ticket, then touch timers).
    ticket = Ticket.objects.locked().select_related(*TICKET_RELATED).get(pk=ticket_id)
    timer = Timer.objects.select_for_update().get(pk=timer_id)
    if timer.state != TimerState.CLAIMED:
        return f"already {timer.state}"
    now = now or timezone.now()
    effects = Effects(shop_ids=[ticket.shop_id])
    result = _act(ticket=ticket, timer=timer, now=now, effects=effects)
    effects.write()
    timer.save(
        update_fields=RESCHEDULE_FIELDS if result in ("moved", "deferred") else FINISH_FIELDS
    )
    if timer.kind == TimerKind.PROGRESS_REMINDER and result == "fired":
        timers_sync(ticket, now=now)  # the next day's reminder
    return result


def _act(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects) -> str:
    """Re-check a claimed timer against its locked ticket and act: "cancelled" (no longer
    wanted), "moved" (its due time moved later), "deferred" (its handler gave a later time) or
    "fired". The timer's new state is set on the object; the caller saves it."""
    wanted = timers_wanted(ticket, now=now)
    if timer.kind not in wanted and timer.kind not in SELF_TIMED - {TimerKind.PROGRESS_REMINDER}:
        _finish(timer, state=TimerState.CANCELLED, result="no longer needed", now=now)
        return "cancelled"
    due = wanted.get(timer.kind)
    if due is not None and due > now + dt.timedelta(seconds=1):
        _reschedule(timer, due_at=due, result="moved")
        return "moved"
    outcome = HANDLERS[timer.kind](ticket=ticket, timer=timer, now=now, effects=effects)
    if isinstance(outcome, dt.datetime):
        _reschedule(timer, due_at=outcome, result=f"deferred to {outcome.isoformat()}")
        return "deferred"
    _finish(timer, state=TimerState.DONE, result=outcome or "fired", now=now)
    return "fired"


def _finish(timer: Timer, *, state: str, result: str, now: dt.datetime) -> None:
    timer.state, timer.result, timer.done_at = state, result[:200], now


def _reschedule(timer: Timer, *, due_at: dt.datetime, result: str) -> None:
    timer.state, timer.due_at, timer.claimed_at, timer.result = (
        TimerState.PENDING,
        due_at,
        None,
        result[:200],
    )
