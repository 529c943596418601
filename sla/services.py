"""SLA timers: the sweep (claim due rows with SKIP LOCKED, enqueue after commit), the reaper,
and what a fired timer does. A timer acts in the same transaction that marks it done, with
its ticket and its own row locked, so a second delivery of the task finds it done and a task
killed mid-way leaves it claimed (the reaper frees it) with nothing half-written.

A task's chunk of timers is fired as a batch: its tickets and timers locked with one query
each, every timer re-checked and handled as alone, and what the handlers produce (timeline
events, notifications, webhook events) written with one statement per kind of row. If the
batch raises it is rolled back and the chunk fired one timer at a time, each in a savepoint."""

import datetime as dt
import functools
import logging
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.exceptions import ApplicationError
from disputes.services import shipping_deadline
from notifications.channels import channel_send
from notifications.services import (
    NewNotification,
    notifications_build,
    notifications_insert,
    shops_staff,
)
from shops.permissions import SUPERVISOR_ROLES
from shops.sla import cached_sla
from sla.clock import SELF_TIMED, timer_start, timers_sync, timers_wanted
from sla.models import OutboundContact, Timer, TimerKind, TimerState
from tickets.models import Customer, SatisfactionSurvey, Ticket, TicketEvent, mask_phone
from tickets.services import Actor, NewEvent, event_record, events_record, ticket_transition
from tickets.states import Action
from webhooks.services import events_emit

logger = logging.getLogger(__name__)
MAX_BATCHES_PER_TICK = 50


# --- the sweep ----------------------------------------------------------------------


def timers_claim_due(*, now: dt.datetime, limit: int, enqueue=None) -> list[int]:
    """Claim up to `limit` due pending timers and hand their ids to `enqueue` once the claim
    has committed. Rows another sweep holds are skipped, not waited for."""
    with transaction.atomic():
        ids = list(
            Timer.objects.select_for_update(skip_locked=True)
            .filter(state=TimerState.PENDING, due_at__lte=now)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Timer.objects.filter(pk__in=ids).update(
                state=TimerState.CLAIMED, claimed_at=now, attempts=F("attempts") + 1
            )
            if enqueue is not None:
                # robust: with the broker down the claims stay for the reaper; the sweep itself succeeds.
                transaction.on_commit(lambda: enqueue(ids), robust=True)
    return ids


def timers_release(*, ids: list[int]) -> int:
    """Put claims back (their tasks could not be enqueued)."""
    return Timer.objects.filter(pk__in=ids, state=TimerState.CLAIMED).update(
        state=TimerState.PENDING, claimed_at=None
    )


def timers_reap(*, now: dt.datetime, timeout_seconds: int | None = None) -> int:
    """Claims older than the timeout go back to pending: their task was lost (broker restart,
    worker killed). If the task is merely slow, its row lock makes this wait, and a task that
    finished meanwhile has marked the row done, which this no longer matches."""
    timeout = dt.timedelta(
        seconds=settings.SLA_CLAIM_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    )
    return Timer.objects.filter(state=TimerState.CLAIMED, claimed_at__lt=now - timeout).update(
        state=TimerState.PENDING, claimed_at=None
    )


def _enqueue(ids: list[int], queue: str | None) -> None:
    from sla.tasks import fire_timers

    chunk = settings.SLA_TASK_CHUNK
    for start in range(0, len(ids), chunk):
        try:
            fire_timers.apply_async(args=[ids[start : start + chunk]], queue=queue, retry=False)
        except Exception:  # broker down: give the rest back now instead of waiting for the reaper
            released = timers_release(ids=ids[start:])
            logger.warning(
                "broker unavailable: %d claimed timers released", released, exc_info=True
            )
            return


def timers_sweep(
    *,
    now: dt.datetime | None = None,
    queue: str | None = None,
    batch: int | None = None,
    enqueue=None,
) -> int:
    """One beat tick: reap stale claims, then claim due timers in batches; each batch's tasks
    are enqueued after its claim committed. Returns how many timers were claimed."""
    now = now or timezone.now()
    batch = batch or settings.SLA_SWEEP_BATCH
    enqueue = enqueue or (lambda ids: _enqueue(ids, queue))
    timers_reap(now=now)
    total = 0
    for _batch in range(MAX_BATCHES_PER_TICK):
        ids = timers_claim_due(now=now, limit=batch, enqueue=enqueue)
        total += len(ids)
        if len(ids) < batch:
            break
    return total


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


class Effects:
    """What fired timers write, collected so a chunk writes each kind of row once: timeline
    events (and the tickets' updated_at), sla_breached_at, notifications, webhook events with
    their deliveries, and the e-mails sent after commit. The supervisors of all the chunk's
    shops are read with one query, the first time one is needed."""

    def __init__(self, *, shop_ids):
        self.shop_ids = set(shop_ids)
        self._supervisors: dict[int, list] | None = None
        self.events: list[NewEvent] = []
        self.breached: dict[int, dt.datetime] = {}  # ticket id -> sla_breached_at
        self.notifications: list[NewNotification] = []
        self.webhooks: list[tuple] = []
        self.emails: list[tuple[str, str, str]] = []

    def supervisors(self, shop) -> list:
        if self._supervisors is None:
            self._supervisors = shops_staff(shop_ids=self.shop_ids, roles=SUPERVISOR_ROLES)
        return self._supervisors.get(shop.pk, [])

    def event(self, *, ticket: Ticket, kind: str, actor: Actor, data: dict) -> None:
        self.events.append(
            NewEvent(
                ticket.pk,
                kind,
                actor.user.pk if actor.user else None,
                actor.label,
                data,
                timezone.now(),
            )
        )

    def breach(self, *, ticket: Ticket, now: dt.datetime) -> None:
        if ticket.sla_breached_at is None:
            ticket.sla_breached_at = self.breached[ticket.pk] = now

    def notify(self, **kwargs) -> None:
        self.notifications += notifications_build(**kwargs)

    def emit(self, *, shop, type: str, data: dict) -> None:
        self.webhooks.append((shop, type, data))

    def email(self, *, to: str, subject: str, body: str) -> None:
        self.emails.append((to, subject, body))

    def write(self) -> None:
        events_record(events=self.events, sla_breached_at=self.breached)
        notifications_insert(self.notifications)
        events_emit(events=self.webhooks)
        if emails := self.emails:
            # robust: a failure after the commit is logged, it must not look like a failed batch to timers_fire.
            transaction.on_commit(
                lambda: [
                    channel_send(channel="email", to=to, subject=subject, body=body)
                    for to, subject, body in emails
                ],
                robust=True,
            )


def timer_fire(*, timer_id: int, now: dt.datetime | None = None) -> str:
    """Act on one claimed timer, exactly once. Returns what happened."""
    return timers_fire(timer_ids=[timer_id], now=now).get(timer_id, "gone")


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
        for ticket in Ticket.objects.select_for_update(of=("self",))
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
            Ticket.objects.select_for_update()
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
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related(*TICKET_RELATED)
        .get(pk=ticket_id)
    )
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


def _ticket_url(ticket: Ticket) -> str:
    # reverse() once per process, not once per timer (it was a tenth of a chunk's Python time).
    return _ticket_url_pattern().replace("NUMBER", ticket.number)


@functools.cache
def _ticket_url_pattern() -> str:
    return reverse("workspace:ticket", args=["NUMBER"])


def _local(ticket: Ticket, moment: dt.datetime) -> str:
    return moment.astimezone(ZoneInfo(ticket.shop.timezone)).strftime("%Y-%m-%d %H:%M")


TARGET_LABELS = {"first_response": "first response", "resolution": "resolution"}


def _warn(target: str):
    def handler(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects) -> str:
        due = (
            ticket.first_response_due_at if target == "first_response" else ticket.resolution_due_at
        )
        if due is None or due <= now:
            # A late sweep (worker down, clock resumed past the mark): "due soon" would be untrue;
            # the breach timer reports the missed deadline.
            return "skipped: already due"
        recipients = [ticket.assignee] if ticket.assignee else effects.supervisors(ticket.shop)
        effects.event(
            ticket=ticket,
            kind=TicketEvent.Kind.SLA,
            actor=Actor.system(),
            data={"what": "warning", "target": target, "due_at": due.isoformat()},
        )
        title = (
            gettext_noop("SLA warning: first response due %(due)s — %(number)s")
            if target == "first_response"
            else gettext_noop("SLA warning: resolution due %(due)s — %(number)s")
        )
        effects.notify(
            recipients=recipients,
            shop=ticket.shop,
            kind="sla_warning",
            title=title,
            params={"due": _local(ticket, due), "number": ticket.number},
            ticket=ticket,
            url=_ticket_url(ticket),
        )
        return "warned"

    return handler


def _breach(target: str):
    def handler(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects) -> str:
        due = (
            ticket.first_response_due_at if target == "first_response" else ticket.resolution_due_at
        )
        effects.breach(ticket=ticket, now=now)
        supervisors = effects.supervisors(ticket.shop)
        effects.event(
            ticket=ticket,
            kind=TicketEvent.Kind.SLA,
            actor=Actor.system(),
            data={
                "what": "breached",
                "target": target,
                "due_at": due.isoformat(),
                "escalated_to": [u.get_username() for u in supervisors],
            },
        )
        title = (
            gettext_noop("SLA breached: first response overdue — %(number)s")
            if target == "first_response"
            else gettext_noop("SLA breached: resolution overdue — %(number)s")
        )
        body = gettext_noop("Due %(due)s. Escalated to the shop's supervisors.")
        params = {"number": ticket.number, "due": _local(ticket, due)}
        effects.notify(
            recipients=[*supervisors, ticket.assignee],
            shop=ticket.shop,
            kind="sla_breached",
            title=title,
            body=body,
            params=params,
            ticket=ticket,
            url=_ticket_url(ticket),
        )
        effects.emit(
            shop=ticket.shop,
            type="ticket.sla_breached",
            data={
                "number": ticket.number,
                "target": target,
                "due_at": due,
                "breached_at": ticket.sla_breached_at,
                "status": ticket.status,
                "priority": ticket.priority,
            },
        )
        for user in supervisors:
            if user.email:
                effects.email(to=user.email, subject=_(title) % params, body=_(body) % params)
        return "escalated"

    return handler


def _platform_deadline(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects) -> str:
    supervisors = effects.supervisors(ticket.shop)
    effects.event(
        ticket=ticket,
        kind=TicketEvent.Kind.SLA,
        actor=Actor.system(),
        data={
            "what": "platform_deadline",
            "deadline": ticket.platform_deadline_at.isoformat(),
            "escalated_to": [u.get_username() for u in supervisors],
        },
    )
    title = gettext_noop(
        "Platform deadline %(deadline)s: answer before the marketplace refunds on its own — %(number)s"
    )
    effects.notify(
        recipients=[*supervisors, ticket.assignee],
        shop=ticket.shop,
        kind="platform_deadline",
        title=title,
        params={"deadline": _local(ticket, ticket.platform_deadline_at), "number": ticket.number},
        ticket=ticket,
        url=_ticket_url(ticket),
    )
    return "escalated"


def _shipping_deadline(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects) -> str:
    deadline = shipping_deadline(ticket=ticket)
    effects.event(
        ticket=ticket,
        kind=TicketEvent.Kind.SLA,
        actor=Actor.system(),
        data={"what": "shipping_deadline", "deadline": deadline.isoformat()},
    )
    title = gettext_noop("Ship by %(deadline)s or face the late-shipment penalty — %(number)s")
    effects.notify(
        recipients=[*effects.supervisors(ticket.shop), ticket.assignee],
        shop=ticket.shop,
        kind="shipping_deadline",
        title=title,
        params={"deadline": _local(ticket, deadline), "number": ticket.number},
        ticket=ticket,
        url=_ticket_url(ticket),
    )
    return "warned"


def _progress_reminder(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects) -> str:
    effects.event(
        ticket=ticket,
        kind=TicketEvent.Kind.SLA,
        actor=Actor.system(),
        data={"what": "progress_reminder"},
    )
    title = gettext_noop("Send the customer today's progress update — %(number)s")
    recipients = [ticket.assignee] if ticket.assignee else effects.supervisors(ticket.shop)
    effects.notify(
        recipients=recipients,
        shop=ticket.shop,
        kind="progress_reminder",
        title=title,
        params={"number": ticket.number},
        ticket=ticket,
        url=_ticket_url(ticket),
    )
    return "reminded"


# The handlers below contact the customer or change the ticket's status: they write at once
# (never fired as a batch) and leave `effects` to the others.


def _auto_close(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects):
    sla, _cal = cached_sla(ticket.shop)
    notice = _(
        "We have not heard from you for %(days)s days, so ticket %(number)s is now closed. Reply any time to reopen it."
    ) % {"days": sla["auto_close_days"], "number": ticket.number}
    deferred = contact_customer(ticket=ticket, purpose="auto_close", body=notice, now=now)
    if deferred:
        return deferred
    ticket_transition(
        ticket=ticket,
        action=Action.CLOSE,
        actor=Actor.system(),
        note="auto-closed: no reply from the customer",
    )
    return "closed"


def _follow_up(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects):
    survey = survey_for(ticket=ticket, now=now)
    if survey.answered_at:
        return "already answered"
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("survey", args=[survey.token])
    body = _(
        "Your after-sales request %(number)s is resolved. How did we do? Rate us (1-5): %(url)s"
    ) % {"number": ticket.number, "url": url}
    deferred = contact_customer(ticket=ticket, purpose="follow_up", body=body, now=now)
    if deferred:
        return deferred
    event_record(
        ticket=ticket, kind=TicketEvent.Kind.SURVEY, actor=Actor.system(), data={"what": "sent"}
    )
    return "sent"


def _reship_tracking(*, ticket: Ticket, timer: Timer, now: dt.datetime, effects: Effects):
    body = _("Your replacement for %(number)s has shipped: %(courier)s %(tracking)s.") % {
        "number": ticket.number,
        "courier": timer.data.get("courier", ""),
        "tracking": timer.data.get("tracking_no", ""),
    }
    return contact_customer(ticket=ticket, purpose="reship_tracking", body=body, now=now) or "sent"


HANDLERS = {
    TimerKind.FIRST_RESPONSE_WARNING: _warn("first_response"),
    TimerKind.RESOLUTION_WARNING: _warn("resolution"),
    TimerKind.FIRST_RESPONSE_BREACH: _breach("first_response"),
    TimerKind.RESOLUTION_BREACH: _breach("resolution"),
    TimerKind.PLATFORM_DEADLINE: _platform_deadline,
    TimerKind.SHIPPING_DEADLINE: _shipping_deadline,
    TimerKind.PROGRESS_REMINDER: _progress_reminder,
    TimerKind.AUTO_CLOSE: _auto_close,
    TimerKind.FOLLOW_UP: _follow_up,
    TimerKind.RESHIP_TRACKING: _reship_tracking,
}


def reship_tracking_schedule(
    *, ticket: Ticket, tracking_no: str, courier: str = "", at: dt.datetime | None = None
) -> Timer:
    """Send the re-shipment's tracking number to the customer (within 24 h, in the contact window)."""
    return timer_start(
        ticket,
        kind=TimerKind.RESHIP_TRACKING,
        due_at=at or timezone.now(),
        data={"tracking_no": tracking_no, "courier": courier},
    )


# --- contacting customers (DOMAIN.md §6) --------------------------------------------------


def contact_next_allowed(
    *, ticket: Ticket, now: dt.datetime, sent_today: int
) -> dt.datetime | None:
    """None when contact is allowed now; else the start of the next contact window."""
    sla, _cal = cached_sla(ticket.shop)
    tz = ZoneInfo(ticket.shop.timezone)
    local = now.astimezone(tz)
    opens, closes = (dt.time.fromisoformat(t) for t in sla["contact_window"])
    today_opens = dt.datetime.combine(local.date(), opens, tzinfo=tz)
    tomorrow_opens = dt.datetime.combine(local.date() + dt.timedelta(days=1), opens, tzinfo=tz)
    if local < today_opens:
        return today_opens
    if local.time() >= closes or sent_today >= sla["max_contacts_per_day"]:
        return tomorrow_opens
    return None


def contact_customer(
    *, ticket: Ticket, purpose: str, body: str, now: dt.datetime
) -> dt.datetime | None:
    """Text the customer now if the shop's contact rules allow it (logged on the timeline),
    else return when to try again: never dropped, only deferred."""
    customer = Customer.objects.select_for_update().get(
        pk=ticket.customer_id
    )  # one counter per customer
    tz = ZoneInfo(ticket.shop.timezone)
    midnight = dt.datetime.combine(now.astimezone(tz).date(), dt.time.min, tzinfo=tz)
    sent_today = OutboundContact.objects.filter(
        customer=customer, created_at__gte=midnight, created_at__lte=now
    ).count()
    later = contact_next_allowed(ticket=ticket, now=now, sent_today=sent_today)
    if later is not None:
        return later.astimezone(dt.UTC)
    if not customer.phone:
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.CONTACT,
            actor=Actor.system(),
            data={"purpose": purpose, "channel": "sms", "skipped": "no phone number", "body": body},
        )
        return None
    OutboundContact.objects.create(
        shop=ticket.shop,
        customer=customer,
        ticket=ticket,
        channel=OutboundContact.Channel.SMS,
        purpose=purpose,
        to=customer.phone,
        body=body,
        created_at=now,
    )
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.CONTACT,
        actor=Actor.system(),
        data={"purpose": purpose, "channel": "sms", "to": mask_phone(customer.phone), "body": body},
    )
    phone = customer.phone
    # robust: the contact is recorded (and counted against the day's limit) whatever the SMS gateway answers.
    transaction.on_commit(lambda: channel_send(channel="sms", to=phone, body=body), robust=True)
    return None


# --- the satisfaction survey ------------------------------------------------------------------


def survey_for(*, ticket: Ticket, now: dt.datetime) -> SatisfactionSurvey:
    survey, _created = SatisfactionSurvey.objects.get_or_create(
        ticket=ticket, defaults={"token": secrets.token_urlsafe(32), "sent_at": now}
    )
    return survey


def survey_get(*, token: str) -> SatisfactionSurvey | None:
    return (
        SatisfactionSurvey.objects.select_related("ticket__shop").filter(token=token).first()
        if token
        else None
    )


@transaction.atomic
def survey_answer(*, token: str, score, comment: str = "") -> SatisfactionSurvey:
    """The customer's one answer: 1-5 stars and an optional comment. A second answer is refused."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = None
    if score is None or not 1 <= score <= 5:
        raise ApplicationError(
            "validation_error",
            _("The request has invalid fields."),
            fields={"score": _("Choose 1 to 5 stars.")},
        )
    comment = (comment or "").strip()[:2000]
    survey = (
        SatisfactionSurvey.objects.select_for_update().filter(token=token).first()
        if token
        else None
    )
    if survey is None:
        raise ApplicationError("not_found", _("No such survey."), status_code=404)
    if survey.answered_at is not None:
        raise ApplicationError(
            "already_answered", _("This survey has already been answered."), status_code=409
        )
    survey.score, survey.comment, survey.answered_at = score, comment, timezone.now()
    survey.save(update_fields=["score", "comment", "answered_at"])
    ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=survey.ticket_id)
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.SURVEY,
        actor=Actor(label="customer", kind="customer"),
        data={"what": "answered", "score": score, "comment": comment},
    )
    return survey
