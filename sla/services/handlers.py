"""What each kind of timer does when it fires (HANDLERS), and the effects a batch of them
writes together (Effects)."""

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales import hooks
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
from sla.clock import timer_start
from sla.models import Timer, TimerKind
from sla.services.contact import contact_customer
from sla.services.survey import survey_for
from tickets.models import Ticket, TicketEvent
from tickets.services import Actor, NewEvent, event_record, events_record, ticket_transition
from tickets.states import Action
from webhooks.services import events_emit


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
        # Automation's sla.warning rules act on it once the chunk has committed.
        hooks.emit(hooks.SLA_WARNING, ticket=ticket, target=target, due_at=due, now=now)
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
