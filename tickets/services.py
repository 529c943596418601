"""Writes to tickets. Each function is one transaction and records what it did on
the ticket's timeline with who and when."""

import datetime as dt
import secrets
import unicodedata
import zlib
from dataclasses import dataclass
from typing import NamedTuple

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from aftersales import hooks
from aftersales.db import (
    instance_read_or_insert_beside,
    instances_insert,
    joined_columns,
    rows_insert,
)
from aftersales.exceptions import ApplicationError, IllegalTransition
from aftersales.prefetch import set_prefetched
from shops.config import shops_config
from shops.models import Membership, Shop
from shops.sla import due_times
from tickets.clock import clock_on_status_change
from tickets.models import (
    TAG_NAME_MAX_LENGTH,
    TAGS_PER_TICKET,
    Attachment,
    Customer,
    DisputeType,
    LogisticsEvent,
    Message,
    Order,
    OrderItem,
    SavedView,
    Tag,
    TagColour,
    Ticket,
    TicketEvent,
    phone_digits,
)
from tickets.reply_templates import unfilled_placeholders
from tickets.states import (
    ACTIVE_STATUSES,
    SERVICE_ONLY_ACTIONS,
    STAFF_ACTIONS,
    Action,
    Priority,
    Status,
    target_status,
)
from webhooks.services import event_emit

User = get_user_model()

# Content types accepted as evidence, as sniffed from the file's bytes (never its name).
ALLOWED_ATTACHMENT_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "application/pdf",
    "video/mp4",
}
_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over the phone
# Bounds of the free text written from the ticket page and the ticket API.
MESSAGE_MAX_LENGTH = 5000  # a reply or an internal note
NOTE_MAX_LENGTH = 2000  # the note of a status change
SIGNED_BY_MAX_LENGTH = 100  # LogisticsEvent.signed_by


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        "validation_error", gettext("The request has invalid fields."), fields={field: message}
    )


def _too_long(field: str, text: str, limit: int) -> ApplicationError:
    return _invalid(
        field,
        gettext("At most %(limit)s characters; this one has %(count)s.")
        % {"limit": limit, "count": len(text)},
    )


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, a shop backend (its API key) or the system."""

    label: str
    kind: str = "staff"  # staff | shop | system
    user: User | None = None

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(label=user.get_username(), kind="staff", user=user)

    @classmethod
    def shop(cls, shop: Shop) -> "Actor":
        return cls(label=f"shop:{shop.code}", kind="shop")

    @classmethod
    def system(cls) -> "Actor":
        return cls(label="system", kind="system")


def event_record(
    *, ticket: Ticket, kind: str, actor: Actor, data: dict | None = None
) -> TicketEvent:
    """Append to the timeline and bump the ticket's updated_at (what list sync filters on)."""
    event = TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor.user, actor_label=actor.label, data=data or {}
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=event.created_at)
    return event


class NewEvent(NamedTuple):
    """A timeline event for events_record, as plain values (no model instance per row)."""

    ticket_id: int
    kind: str
    actor_id: int | None
    actor_label: str
    data: dict
    created_at: dt.datetime


def events_record(
    *, events: list[NewEvent], sla_breached_at: dict[int, dt.datetime] | None = None
) -> None:
    """event_record for many events at once (e.g. a chunk of SLA timers): one INSERT,
    and one UPDATE giving each ticket its last event's time as updated_at and, to the tickets
    in `sla_breached_at` (id -> time), their sla_breached_at: one new row version per ticket.
    The caller holds the tickets' row locks (taken in id order)."""
    rows_insert(TicketEvent, NewEvent._fields, events)
    latest: dict[int, dt.datetime] = {}
    for event in events:
        latest[event.ticket_id] = max(
            event.created_at, latest.get(event.ticket_id, event.created_at)
        )
    breached = sla_breached_at or {}
    ids = list(latest.keys() | breached.keys())
    if ids and connection.vendor == "postgresql":
        # One UPDATE from arrays (bulk_update's CASE per row costs more to build than to run).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Ticket._meta.db_table} AS t SET updated_at = coalesce(v.updated_at, t.updated_at), "
                "sla_breached_at = coalesce(v.breached_at, t.sla_breached_at) "
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS v(id, updated_at, breached_at) WHERE t.id = v.id",
                [ids, [latest.get(pk) for pk in ids], [breached.get(pk) for pk in ids]],
            )
    else:  # SQLite (`make run` without DATABASE_URL): no arrays, one UPDATE per ticket
        for pk in ids:
            changes = {"updated_at": latest.get(pk), "sla_breached_at": breached.get(pk)}
            Ticket.objects.filter(pk=pk).update(
                **{k: v for k, v in changes.items() if v is not None}
            )


class ShopDisputeTypes(NamedTuple):
    by_code: dict[str, DisputeType]  # active ones, the shop's own before the global ones
    by_id: dict[int, DisputeType]  # every type a ticket of the shop can have, active or not


def shop_dispute_types(shop_id: int) -> ShopDisputeTypes:
    """The shop's own and the global dispute types, in one read kept per process until the
    shop's configuration changes (shops.config). Shared: copy one before changing it."""
    return _kept_dispute_types([shop_id])[shop_id]


def _kept_dispute_types(shop_ids: list[int]) -> dict[int, ShopDisputeTypes]:
    return shops_config(
        shop_ids, "dispute_types", lambda ids: {pk: _dispute_types_read(pk) for pk in ids}
    )


def _dispute_types_read(shop_id: int) -> ShopDisputeTypes:
    by_code, by_id = {}, {}
    for dispute_type in DisputeType.objects.filter(
        Q(shop_id=shop_id) | Q(shop__isnull=True)
    ).order_by(F("shop_id").asc(nulls_last=True), "id"):
        by_id[dispute_type.pk] = dispute_type
        if dispute_type.active:
            by_code.setdefault(dispute_type.code, dispute_type)
    return ShopDisputeTypes(by_code, by_id)


def dispute_types_of_shops(shop_ids: list[int]) -> list[DisputeType]:
    """The active dispute types the shops' tickets can take (their own and the global ones), by
    category and code: the queue's filter. From the kept configuration (shop_dispute_types), so
    no query once the shops' versions are known (a page's memberships read gives them)."""
    if not shop_ids:
        return list(
            DisputeType.objects.filter(shop__isnull=True, active=True).order_by("category", "code")
        )
    kept = _kept_dispute_types(shop_ids)
    active = {t.pk: t for types in kept.values() for t in types.by_id.values() if t.active}
    return sorted(active.values(), key=lambda t: (t.category, t.code, t.pk))


def dispute_type_for_shop(*, shop: Shop, code: str) -> DisputeType | None:
    """The shop's own active type with that code, else the global one (kept per process until
    the shop's configuration changes: shops.config)."""
    return shop_dispute_types(shop.pk).by_code.get(code)


def _new_number(now: dt.datetime) -> str:
    suffix = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))
    return f"AS{now:%y%m%d}{suffix}"


def next_due_at(ticket: Ticket) -> dt.datetime | None:
    """The deadline the ticket is racing now; none while waiting on the customer or once resolved."""
    if ticket.status not in ACTIVE_STATUSES or ticket.status == Status.PENDING_CUSTOMER:
        return None
    if ticket.first_responded_at is None:
        return ticket.first_response_due_at
    return ticket.resolution_due_at


def _customer_upsert_and_order_create(
    *, shop: Shop, customer: dict, order: dict
) -> tuple[Customer, Order, list[OrderItem]]:
    """The shop's customer by external id, created or with a changed name or phone updated;
    and the ticket's new order with its lines.

    Not get_or_create: its savepoint around the INSERT costs two statements per new customer.
    On PostgreSQL one statement reads the customer or, when there is none, inserts it, and
    inserts the order and its lines beside it (aftersales.db.instance_read_or_insert_beside);
    the customer's INSERT skips a conflict on (shop, external_id), so a customer a concurrent
    request inserted first is read again rather than failing this transaction."""
    customer_row = Customer(
        shop=shop,
        external_id=customer["external_id"],
        name=customer.get("name", ""),
        phone=customer.get("phone", ""),
    )
    order_row, items = _order_rows(shop=shop, order=order)
    read, created = instance_read_or_insert_beside(
        _CUSTOMER_SQL,
        [shop.pk, customer["external_id"]],
        customer_row,
        parent=order_row,
        children=items,
    )
    if created:
        customer_row._just_created = True
        return customer_row, order_row, items
    if read is None:  # a concurrent request inserted it first
        read = Customer.objects.get(shop=shop, external_id=customer["external_id"])
    changed = {
        k: customer[k]
        for k in ("name", "phone")
        if customer.get(k) and customer[k] != getattr(read, k)
    }
    if changed:
        Customer.objects.filter(pk=read.pk).update(**changed)
        for field, value in changed.items():  # the response is rendered from this object
            setattr(read, field, value)
    return read, order_row, items


_CUSTOMER_SQL = (
    f"SELECT {joined_columns(('c', Customer))} FROM {Customer._meta.db_table} c"
    " WHERE c.shop_id = %s AND c.external_id = %s"
)


def _order_rows(*, shop: Shop, order: dict) -> tuple[Order, list[OrderItem]]:
    """The ticket's order and its lines, to be written."""
    order_row = Order(
        shop=shop,
        order_no=order["order_no"],
        amount=order.get("amount"),
        paid_at=order.get("paid_at"),
        shipped_at=order.get("shipped_at"),
        delivered_at=order.get("delivered_at"),
        courier=order.get("courier") or "",
        tracking_no=order.get("tracking_no") or "",
    )
    items = [
        OrderItem(
            order=order_row,
            sku=item["sku"],
            name=item.get("name") or "",
            batch_no=item.get("batch_no") or "",
            unit_price=item["unit_price"],
            quantity=item.get("quantity", 1),
            perishable=item.get("perishable", False),
            shelf_life_days=item.get("shelf_life_days"),
        )
        for item in order.get("items") or []
    ]
    return order_row, items


@transaction.atomic
def ticket_create(
    *,
    shop: Shop,
    actor: Actor,
    dispute_type_code: str,
    customer: dict,
    order: dict,
    description: str = "",
    channel: str = "api",
    external_ref: str | None = None,
    requested_resolution: str = "",
    affected_items: list | None = None,
    platform_deadline_at: dt.datetime | None = None,
    follow_up_of: Ticket | None = None,
) -> Ticket:
    dispute_type = dispute_type_for_shop(shop=shop, code=dispute_type_code)
    if dispute_type is None:
        raise _invalid(
            "dispute_type",
            gettext("Unknown dispute type '%(code)s'.") % {"code": dispute_type_code},
        )
    if external_ref and Ticket.objects.filter(shop=shop, external_ref=external_ref).exists():
        raise _duplicate_external_ref(external_ref)

    customer_row, order_row, created_items = _customer_upsert_and_order_create(
        shop=shop, customer=customer, order=order
    )

    now = timezone.now()
    priority = dispute_type.default_priority
    first_due, resolution_due = due_times(
        shop, priority=priority, start=now, dispute_type=dispute_type.code
    )
    ticket = Ticket(
        shop=shop,
        customer=customer_row,
        order=order_row,
        dispute_type=dispute_type,
        priority=priority,
        channel=channel or "api",
        external_ref=external_ref or None,
        requested_resolution=requested_resolution or "",
        description=description or "",
        affected_items=[
            {"sku": a["sku"], "quantity": a["quantity"]} for a in (affected_items or [])
        ],
        platform_deadline_at=platform_deadline_at,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        follow_up_of=follow_up_of,
        status_since=now,
    )
    ticket.next_due_at = next_due_at(ticket)
    # The assignment app's choice (automatic shops), written with the ticket: no UPDATE after.
    chosen = hooks.collect(hooks.NEW_TICKET_ASSIGNEE, shop=shop, dispute_type=dispute_type)
    ticket.assignee = chosen.get("assignee")
    # Not event_record: written with the ticket, whose updated_at needs no bump.
    events = [
        TicketEvent(
            ticket=ticket,
            kind=TicketEvent.Kind.CREATED,
            actor=actor.user,
            actor_label=actor.label,
            data={
                "dispute_type": dispute_type.code,
                "priority": priority,
                "channel": ticket.channel,
            },
        )
    ]
    if ticket.assignee is not None:
        system = Actor.system()
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=TicketEvent.Kind.ASSIGNED,
                actor=system.user,
                actor_label=system.label,
                data={"from": None, "to": ticket.assignee.get_username(), "mode": chosen["mode"]},
            )
        )
    _save_with_unique_number(ticket, now=now, events=events)
    # The caller can render the new ticket without reading it back.
    set_prefetched(order_row, "items", created_items)
    set_prefetched(ticket, "judgments", [])
    set_prefetched(ticket, "compensations", [])
    set_prefetched(ticket, "tags", [])
    set_prefetched(ticket, "attachments", [])  # none yet (risk: no photos to look up)
    set_prefetched(ticket, "risk_dismissals", [])  # nor flags dismissed (risk: nothing to read)
    if getattr(customer_row, "_just_created", False):
        # A new customer's only ticket is this one (risk: nothing to count in the database).
        set_prefetched(customer_row, "tickets", [ticket])
    event_emit(
        shop=shop,
        type="ticket.created",
        data={
            "number": ticket.number,
            "status": ticket.status,
            "priority": priority,
            "dispute_type": dispute_type.code,
            "external_ref": ticket.external_ref,
            "order_no": order_row.order_no,
            "customer": customer_row.external_id,
            "created_at": ticket.created_at,
        },
    )
    # The features react (sla: timers; disputes: food-safety escalation; analytics: batch check).
    hooks.emit(hooks.TICKET_CREATED, ticket=ticket, now=now)
    return ticket


def _duplicate_external_ref(external_ref: str) -> ApplicationError:
    return ApplicationError(
        "duplicate_external_ref",
        gettext("A ticket with external_ref '%(ref)s' already exists.") % {"ref": external_ref},
        status_code=409,
    )


def _save_with_unique_number(
    ticket: Ticket, *, now: dt.datetime, events: list[TicketEvent], attempts: int = 5
) -> None:
    """Insert the ticket with a fresh random number, and its first events in the same statement;
    on a unique conflict (no savepoint: the INSERT skips it and writes nothing) either a
    concurrent request took the same external_ref (409) or, rarely, the number was taken: try
    another."""
    for _ in range(attempts):
        ticket.number = _new_number(now)
        if instances_insert([ticket], skip_conflict=True, children=events):
            return
        if (
            ticket.external_ref
            and Ticket.objects.filter(shop=ticket.shop, external_ref=ticket.external_ref).exists()
        ):
            raise _duplicate_external_ref(ticket.external_ref)
    raise ApplicationError(
        "number_exhausted",
        gettext("Could not allocate a ticket number; please retry."),
        status_code=503,
    )


def _locked(ticket_id: int, *, with_tags: bool = False) -> Ticket:
    """The ticket, its row locked until the transaction ends; `with_tags`: its tags read too."""
    rows = Ticket.objects.locked()
    return (rows.prefetch_related("tags") if with_tags else rows).get(pk=ticket_id)


def _apply_status(
    ticket: Ticket,
    *,
    target: str,
    action: str,
    actor: Actor,
    note: str = "",
    also: dict | None = None,
) -> None:
    """`also`: other fields set with the status (merged_into), saved in the same UPDATE and named
    in the timeline event and the webhook (a ticket by its number)."""
    now = timezone.now()
    previous = ticket.status
    ticket.status = target
    ticket.status_since = now
    if target == Status.RESOLVED:
        ticket.resolved_at = now
    elif target == Status.CLOSED:
        ticket.closed_at = now
    elif action == Action.REOPEN:
        ticket.resolved_at = None
    for field, value in (also or {}).items():
        setattr(ticket, field, value)
    clock_fields = clock_on_status_change(ticket, previous=previous, now=now)
    ticket.next_due_at = next_due_at(ticket)
    ticket.save(
        update_fields=[
            "status",
            "status_since",
            "resolved_at",
            "closed_at",
            "next_due_at",
            "updated_at",
            *clock_fields,
            *(also or {}),
        ]
    )
    hooks.emit(hooks.TICKET_STATUS_CHANGED, ticket=ticket, previous=previous, now=now, actor=actor)
    data = {"from": previous, "to": target, "action": action}
    for field, value in (also or {}).items():
        data[field] = value.number if isinstance(value, Ticket) else value
    if note:
        data["note"] = note
    event = event_record(
        ticket=ticket, kind=TicketEvent.Kind.STATUS_CHANGED, actor=actor, data=data
    )
    event_emit(
        shop=ticket.shop,
        type="ticket.status_changed",
        data={"number": ticket.number, **data, "by": actor.label, "at": event.created_at},
    )


@transaction.atomic
def ticket_transition(*, ticket: Ticket, action: str, actor: Actor, note: str = "") -> Ticket:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise _too_long("note", note, NOTE_MAX_LENGTH)
    locked = _locked(ticket.pk)
    target = (
        None
        if action in SERVICE_ONLY_ACTIONS
        else target_status(current=locked.status, action=action)
    )
    if target is None:
        action_words = Action(action).label if action in Action.values else action
        if locked.status == Status.CLOSED:
            raise IllegalTransition(
                gettext(
                    "A closed ticket is final and cannot be changed; create a follow-up ticket to continue."
                )
            )
        raise IllegalTransition(
            gettext("“%(action)s” is not possible for a ticket that is %(status)s.")
            % {"action": action_words, "status": Status(locked.status).label}
        )
    _apply_status(locked, target=target, action=action, actor=actor, note=note)
    return locked


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, actor: Actor, mode: str | None = None) -> Ticket:
    """Give the ticket to `assignee` (None: unassign). `mode` names the automatic assignment that
    chose them (assignment app: "round_robin", "least_loaded"); the timeline event says it."""
    locked = _locked(ticket.pk)
    if assignee is not None and not (
        assignee.is_superuser
        or Membership.objects.filter(user=assignee, shop_id=locked.shop_id).exists()
    ):
        raise ApplicationError(
            "invalid_assignee",
            gettext("%(name)s does not work for this shop.") % {"name": assignee.get_username()},
        )
    return ticket_assign_held(ticket=locked, assignee=assignee, actor=actor, mode=mode)


def ticket_assign_held(
    *, ticket: Ticket, assignee, actor: Actor, mode: str | None = None, announce: bool = True
) -> Ticket:
    """ticket_assign for a caller that already holds the ticket's row lock (or has just inserted
    it, in its transaction) and knows `assignee` works for the ticket's shop (the assignment
    app: it chose them among the shop's members): no second lock, no second membership check.
    The new assignee and the updated_at of the event are written in one UPDATE. `announce=False`:
    no `ticket_updated` event (a rule's "assign: auto": the rule's own change)."""
    previous = ticket.assignee
    if previous == assignee:
        return ticket
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.ASSIGNED,
        actor=actor.user,
        actor_label=actor.label,
        data={
            "from": previous.get_username() if previous else None,
            "to": assignee.get_username() if assignee else None,
            **({"mode": mode} if mode else {}),
        },
    )
    Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee, updated_at=event.created_at)
    ticket.assignee = assignee
    ticket.updated_at = event.created_at
    if not announce:
        return ticket
    hooks.emit(
        hooks.TICKET_UPDATED,
        ticket=ticket,
        changes={"assignee": assignee.get_username() if assignee else None},
        previous_assignee_id=previous.pk if previous else None,
        actor=actor,
    )
    return ticket


def _merge_refused(message: str) -> ApplicationError:
    return ApplicationError("merge_not_allowed", message, status_code=409)


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, note: str, actor: Actor) -> Ticket:
    """A duplicate goes into another ticket of the same shop and customer: the source closes with
    `merged_into` (through the state machine, so its SLA timers stop as on any close), its messages
    and evidence show on the target, and both timelines record the merge with the note.

    Both rows are locked in id order, so two merges crossing each other (A into B, B into A) take
    turns instead of deadlocking, and everything is checked on the locked rows: the second finds its
    target closed and no cycle can form. The features say what still blocks the source
    (hooks.MERGE_BLOCKERS; disputes: compensations in flight), asked with its row locked."""
    note = (note or "").strip()
    if not note:
        raise _invalid("note", gettext("Say why these tickets are one case."))
    if len(note) > NOTE_MAX_LENGTH:
        raise _too_long("note", note, NOTE_MAX_LENGTH)
    if source.pk == target.pk:
        raise _invalid(
            "into", gettext("A ticket cannot be merged into itself: name the other ticket.")
        )
    rows = {
        row.pk: row
        for row in Ticket.objects.locked().filter(pk__in=(source.pk, target.pk)).order_by("pk")
    }
    locked_source, locked_target = rows[source.pk], rows[target.pk]
    names = {"source": locked_source.number, "target": locked_target.number}
    if locked_source.shop_id != locked_target.shop_id:
        raise _merge_refused(gettext("Only tickets of the same shop can be merged."))
    if locked_source.merged_into_id is not None:
        merged = Ticket.objects.only("number").get(pk=locked_source.merged_into_id)
        raise _merge_refused(
            gettext("%(source)s was already merged into %(other)s.")
            % {**names, "other": merged.number}
        )
    if locked_target.merged_into_id is not None:
        merged = Ticket.objects.only("number").get(pk=locked_target.merged_into_id)
        raise _merge_refused(
            gettext("%(target)s was itself merged into %(other)s: merge into %(other)s instead.")
            % {**names, "other": merged.number}
        )
    if locked_target.status == Status.CLOSED:
        raise _merge_refused(
            gettext("%(target)s is closed: merge into a ticket that is still being worked on.")
            % names
        )
    if target_status(current=locked_source.status, action=Action.MERGE) is None:
        raise _merge_refused(
            gettext("%(source)s is closed: a closed ticket is final and cannot be merged.") % names
        )
    if locked_source.customer_id != locked_target.customer_id:
        raise _merge_refused(
            gettext(
                "%(source)s and %(target)s are from different customers: only one customer's "
                "tickets can be merged."
            )
            % names
        )
    blockers = hooks.collect(hooks.MERGE_BLOCKERS, ticket=locked_source)
    if blockers:
        raise _merge_refused(
            gettext("%(source)s cannot be merged yet: %(reasons)s")
            % {**names, "reasons": " ".join(str(reason) for reason in blockers.values())}
        )
    _apply_status(
        locked_source,
        target=Status.CLOSED,
        action=Action.MERGE,
        actor=actor,
        also={"merged_into": locked_target},
    )
    event_record(
        ticket=locked_source,
        kind=TicketEvent.Kind.MERGED,
        actor=actor,
        data={"into": locked_target.number, "note": note},
    )
    event_record(
        ticket=locked_target,
        kind=TicketEvent.Kind.MERGED,
        actor=actor,
        data={"from": locked_source.number, "note": note},
    )
    return locked_target


def newer_conversation(*, ticket: Ticket, seen_event_id: int, user) -> list[TicketEvent]:
    """What the customer or another colleague wrote publicly after the newest timeline event the
    agent had on screen (Freshdesk's "traffic cop"): a reply written without it is held back."""
    return list(
        TicketEvent.objects.filter(
            ticket=ticket, kind=TicketEvent.Kind.MESSAGE, id__gt=seen_event_id
        )
        .exclude(data__internal=True)
        .exclude(Q(data__author_kind=Message.Author.STAFF) & Q(actor=user))
        .order_by("id")
    )


def _stale_view(newer: list[TicketEvent]) -> ApplicationError:
    return ApplicationError(
        "stale_view",
        gettext(
            "New messages arrived while you were writing: read them first; your reply was not sent."
        ),
        status_code=409,
        fields={
            "newer_events": [
                {
                    "id": event.pk,
                    "author_kind": event.data.get("author_kind"),
                    "by": event.actor_label,
                    "body": event.data.get("body", ""),
                    "created_at": event.created_at.isoformat(),
                }
                for event in newer
            ]
        },
    )


@transaction.atomic
def message_add(
    *,
    ticket: Ticket,
    body: str,
    actor: Actor,
    internal: bool = False,
    seen_event_id: int | None = None,
) -> Message:
    """`seen_event_id`: the newest timeline event the staff author had on screen; a public reply
    is refused (409 stale_view) when the customer or a colleague wrote since."""
    body = (body or "").strip()
    if not body:
        raise _invalid("body", gettext("The message may not be blank."))
    if len(body) > MESSAGE_MAX_LENGTH:
        raise _too_long("body", body, MESSAGE_MAX_LENGTH)
    if internal and actor.kind == "shop":  # staff, or the system (an automation rule's note)
        raise ApplicationError(
            "internal_not_allowed", gettext("Only staff can write internal notes.")
        )
    if actor.kind == "staff" and not internal:
        left = unfilled_placeholders(body)
        if left:  # a reply template's blank the agent did not fill in: never sent to the customer
            raise _invalid(
                "body",
                gettext("Fill in or remove the placeholders before sending: %(names)s.")
                % {"names": " ".join(left)},
            )
    locked = _locked(ticket.pk)
    if locked.status == Status.CLOSED and not internal:
        raise ApplicationError(
            "ticket_closed",
            gettext(
                "The ticket is closed and cannot be reopened: create a follow-up ticket to write to the customer."
            ),
            status_code=409,
        )

    if seen_event_id is not None and actor.kind == "staff" and not internal:
        newer = newer_conversation(ticket=locked, seen_event_id=seen_event_id, user=actor.user)
        if newer:
            raise _stale_view(newer)

    author_kind = {"staff": Message.Author.STAFF, "shop": Message.Author.CUSTOMER}.get(
        actor.kind, Message.Author.SYSTEM
    )
    message = Message.objects.create(
        ticket=locked, author_kind=author_kind, author=actor.user, body=body, internal=internal
    )
    event_record(
        ticket=locked,
        kind=TicketEvent.Kind.MESSAGE,
        actor=actor,
        data={
            "message_id": message.pk,
            "author_kind": author_kind,
            "internal": internal,
            "body": body,
        },
    )

    if author_kind == Message.Author.STAFF and not internal:
        first_response = locked.first_responded_at is None
        if first_response:
            locked.first_responded_at = message.created_at
            locked.next_due_at = next_due_at(locked)
            locked.save(update_fields=["first_responded_at", "next_due_at", "updated_at"])
        if locked.status == Status.NEW:
            _apply_status(
                locked, target=Status.OPEN, action=Action.OPEN, actor=actor, note="first reply"
            )  # syncs the timers
        elif first_response:  # the first-response timers are no longer wanted
            hooks.emit(hooks.TICKET_CLOCK_CHANGED, ticket=locked, now=message.created_at)
    elif author_kind == Message.Author.CUSTOMER and locked.status == Status.PENDING_CUSTOMER:
        _apply_status(
            locked,
            target=Status.OPEN,
            action=Action.OPEN,
            actor=Actor.system(),
            note="customer replied",
        )
    hooks.emit(hooks.MESSAGE_ADDED, ticket=locked, message=message, actor=actor)
    return message


def sniff_content_type(uploaded_file) -> str | None:
    head = uploaded_file.read(8192)
    uploaded_file.seek(0)
    kind = filetype.guess(head)
    return kind.mime if kind else None


@transaction.atomic
def attachment_add(*, ticket: Ticket, uploaded_file, kind: str, actor: Actor) -> Attachment:
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    if uploaded_file.size > max_bytes:
        raise ApplicationError(
            "file_too_large",
            gettext("The file is too large (%(size)s bytes): the limit is %(limit)s MB.")
            % {"size": uploaded_file.size, "limit": max_bytes // (1024 * 1024)},
            status_code=413,
        )
    content_type = sniff_content_type(uploaded_file)
    if content_type not in ALLOWED_ATTACHMENT_TYPES:
        raise ApplicationError(
            "unsupported_file_type",
            gettext("This type of file is not accepted: send an image, a PDF or an MP4 video."),
            status_code=415,
        )
    if not content_type.startswith(KIND_CONTENT.get(kind, ("",))):
        raise ApplicationError(
            "validation_error",
            gettext("The request has invalid fields."),
            fields={
                "kind": gettext(
                    "This file does not match its kind: a photo must be an image, a video an MP4, "
                    "a document or chat log an image or a PDF."
                )
            },
        )
    locked = _locked(ticket.pk)
    attachment = Attachment(
        ticket=locked,
        kind=kind,
        original_name=(uploaded_file.name or "upload")[:255],
        content_type=content_type,
        size=uploaded_file.size,
        uploaded_by_label=actor.label,
    )
    attachment.file.save(_safe_name(uploaded_file.name, content_type), uploaded_file, save=False)
    attachment.save()
    event_record(
        ticket=locked,
        kind=TicketEvent.Kind.ATTACHMENT,
        actor=actor,
        data={
            "attachment_id": attachment.pk,
            "kind": kind,
            "name": attachment.original_name,
            "content_type": content_type,
        },
    )
    hooks.emit(hooks.ATTACHMENT_ADDED, ticket=locked, attachment=attachment, actor=actor)
    # The caller's instance may hold its attachments as known (ticket_create: none); not any more.
    getattr(ticket, "_prefetched_objects_cache", {}).pop("attachments", None)
    return attachment


# What each kind of evidence may be, by the content sniffed from its bytes.
KIND_CONTENT = {
    "photo": ("image/",),
    "video": ("video/",),
    "document": ("application/pdf", "image/"),
    "chat_log": ("image/", "application/pdf"),
}


def download_name(name: str, content_type: str) -> str:
    """The name an attachment is served under: the uploader's name with anything but letters,
    digits, CJK, space, '.', '-' and '_' replaced, and the extension its content really has."""
    extension = {"image/jpeg": "jpg", "application/pdf": "pdf", "video/mp4": "mp4"}.get(
        content_type, content_type.split("/")[-1]
    )
    stem = (name or "evidence").rsplit(".", 1)[0]
    stem = (
        "".join(char if char.isalnum() or char in " -_" else "_" for char in stem).strip(" ._")[
            :100
        ]
        or "evidence"
    )
    return f"{stem}.{extension}"


def _safe_name(name: str | None, content_type: str) -> str:
    extension = {"image/jpeg": "jpg", "application/pdf": "pdf", "video/mp4": "mp4"}.get(
        content_type, content_type.split("/")[-1]
    )
    return f"{secrets.token_hex(8)}.{extension}"


@transaction.atomic
def logistics_event_add(
    *,
    ticket: Ticket,
    event: str,
    at: dt.datetime,
    actor: Actor,
    signed_by: str = "",
    authorized: bool | None = None,
    reason: str = "",
) -> LogisticsEvent:
    """A courier event. `reason` says why a parcel came back (returned / refused): what rule R6 reads."""
    signed_by, reason = (signed_by or "").strip(), reason or ""
    if event not in LogisticsEvent.Event.values:
        raise _invalid("event", gettext("Choose a logistics event."))
    if len(signed_by) > SIGNED_BY_MAX_LENGTH:
        raise _too_long("signed_by", signed_by, SIGNED_BY_MAX_LENGTH)
    if reason and reason not in LogisticsEvent.ReturnReason.values:
        raise _invalid(
            "reason",
            gettext("Unknown reason; use one of: %(reasons)s.")
            % {"reasons": ", ".join(LogisticsEvent.ReturnReason.values)},
        )
    if reason and event not in LogisticsEvent.RETURN_EVENTS:
        raise _invalid(
            "reason", gettext("A reason is only given when the parcel was returned or refused.")
        )
    locked = _locked(ticket.pk)
    row = LogisticsEvent.objects.create(
        ticket=locked, event=event, at=at, signed_by=signed_by, authorized=authorized, reason=reason
    )
    data = {"event": event, "at": at.isoformat(), "signed_by": signed_by, "authorized": authorized}
    if reason:
        data["reason"] = reason
    event_record(ticket=locked, kind=TicketEvent.Kind.LOGISTICS, actor=actor, data=data)
    return row


def order_as_input(order: Order) -> dict:
    """An order as ticket_create takes it: a follow-up, or a new ticket on an earlier order,
    carries the same facts and lines."""
    return {
        "order_no": order.order_no,
        "amount": order.amount,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "courier": order.courier,
        "tracking_no": order.tracking_no,
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "batch_no": item.batch_no,
                "unit_price": item.unit_price,
                "quantity": item.quantity,
                "perishable": item.perishable,
                "shelf_life_days": item.shelf_life_days,
            }
            for item in order.items.order_by("id")
        ],
    }


@transaction.atomic
def ticket_follow_up_create(*, ticket: Ticket, actor: Actor) -> Ticket:
    """A closed ticket is final: what the customer still needs goes on a new ticket for the same
    shop, customer, order and dispute type, linked to the closed one. Created by ticket_create, as
    the API creates tickets (the same SLA, timers and webhooks); both timelines record the link."""
    locked = (
        Ticket.objects.locked()
        .select_related("customer", "order", "dispute_type")
        .get(pk=ticket.pk)
    )
    if locked.merged_into_id is not None:
        raise ApplicationError(
            "follow_up_not_allowed",
            gettext("This ticket was merged into %(number)s: continue there.")
            % {"number": Ticket.objects.only("number").get(pk=locked.merged_into_id).number},
            status_code=409,
        )
    if locked.status != Status.CLOSED:
        raise ApplicationError(
            "follow_up_not_allowed",
            gettext(
                "Only a closed ticket gets a follow-up ticket; this one can still be worked on."
            ),
            status_code=409,
        )
    existing = locked.follow_ups.exclude(status=Status.CLOSED).order_by("id").first()
    if existing is not None:
        raise ApplicationError(
            "follow_up_exists",
            gettext("Ticket %(number)s already follows up on this one.")
            % {"number": existing.number},
            status_code=409,
        )
    follow_up = ticket_create(
        shop=locked.shop,
        actor=actor,
        dispute_type_code=locked.dispute_type.code,
        customer={"external_id": locked.customer.external_id},
        order=order_as_input(locked.order),
        description=locked.description,
        channel="web",
        requested_resolution=locked.requested_resolution,
        affected_items=locked.affected_items,
        follow_up_of=locked,
    )
    event_record(
        ticket=follow_up,
        kind=TicketEvent.Kind.FOLLOW_UP,
        actor=actor,
        data={"follow_up_of": locked.number},
    )
    event_record(
        ticket=locked,
        kind=TicketEvent.Kind.FOLLOW_UP,
        actor=actor,
        data={"follow_up": follow_up.number},
    )
    return follow_up


def evidence_kind(uploaded_file) -> str:
    """What a file given at creation is, by its bytes: a photo, a video, else a document (an
    unsupported type is refused by attachment_add)."""
    content_type = sniff_content_type(uploaded_file) or ""
    if content_type.startswith("image/"):
        return Attachment.Kind.PHOTO
    if content_type.startswith("video/"):
        return Attachment.Kind.VIDEO
    return Attachment.Kind.DOCUMENT


@transaction.atomic
def ticket_create_by_staff(
    *,
    shop: Shop,
    actor: Actor,
    customer: Customer | None,
    customer_fields: dict,
    order: dict,
    dispute_type_code: str,
    channel: str,
    description: str = "",
    evidence: list = (),
) -> Ticket:
    """A ticket an agent opens for a customer who called or wrote: ticket_create (the same rules,
    SLA, timers and webhooks as the API's create) and its evidence, all or nothing. `customer` is
    the one the agent found; otherwise `customer_fields` make a new one (without an ID in the
    shop's systems, the phone number stands for it)."""
    if customer is not None:
        data = {**customer_fields, "external_id": customer.external_id}
    else:
        phone = customer_fields.get("phone", "")
        external_id = customer_fields.get("external_id") or "tel:" + phone_digits(phone)
        data = {**customer_fields, "external_id": external_id}
    ticket = ticket_create(
        shop=shop,
        actor=actor,
        dispute_type_code=dispute_type_code,
        customer={k: v for k, v in data.items() if v},
        order=order,
        description=description,
        channel=channel,
    )
    for uploaded_file in evidence:
        attachment_add(
            ticket=ticket,
            uploaded_file=uploaded_file,
            kind=evidence_kind(uploaded_file),
            actor=actor,
        )
    return ticket


# --- Priority and tags ------------------------------------------------------------------------


@transaction.atomic
def ticket_priority_set(*, ticket: Ticket, priority: str, actor: Actor) -> Ticket:
    """A new priority, recorded on the timeline. The SLA due times computed when the ticket came
    in stay as they were: they are the shop's promise at that time."""
    if priority not in Priority.values:
        raise _invalid("priority", gettext("Choose a priority."))
    locked = _locked(ticket.pk)
    previous = locked.priority
    if previous == priority:
        return locked
    locked.priority = priority
    locked.save(update_fields=["priority", "updated_at"])
    event_record(
        ticket=locked,
        kind=TicketEvent.Kind.PRIORITY_CHANGED,
        actor=actor,
        data={"from": previous, "to": priority},
    )
    hooks.emit(hooks.TICKET_UPDATED, ticket=locked, changes={"priority": priority}, actor=actor)
    return locked


def tag_name_clean(name) -> str:
    """A tag's name as stored: trimmed, 1-30 characters, no control or invisible format
    characters (they cannot be told apart on screen)."""
    if not isinstance(name, str):
        raise _invalid("tags", gettext("A tag is a piece of text."))
    name = name.strip()
    if not name:
        raise _invalid("tags", gettext("A tag may not be blank."))
    if len(name) > TAG_NAME_MAX_LENGTH:
        raise _invalid(
            "tags",
            gettext("A tag has at most %(limit)s characters; “%(name)s” has %(count)s.")
            % {
                "limit": TAG_NAME_MAX_LENGTH,
                "name": name[:TAG_NAME_MAX_LENGTH],
                "count": len(name),
            },
        )
    if any(unicodedata.category(char)[0] in "CZ" and char != " " for char in name):
        raise _invalid(
            "tags", gettext("A tag may not contain control characters, tabs or line breaks.")
        )
    return name


def tag_colour_for(name: str) -> str:
    """A new tag's colour from the palette, the same for the same name in every shop."""
    palette = [c for c in TagColour.values if c != TagColour.GREY]
    return palette[zlib.crc32(name.lower().encode()) % len(palette)]


def _tags_find(*, shop_id: int, names: list[str]) -> dict[str, Tag]:
    """The shop's tags with these names (any case), by lower-cased name."""
    lowered = [name.lower() for name in names]
    rows = Tag.objects.annotate(lowered=Lower("name")).filter(shop_id=shop_id, lowered__in=lowered)
    return {tag.name.lower(): tag for tag in rows}


def _tags_get_or_create(*, shop_id: int, names: list[str]) -> list[Tag]:
    """The shop's tags named so, those not yet known created (one per name whatever its case;
    the first spelling stays). A concurrent creation of the same name is taken, not an error."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(name.lower(), name)
    found = _tags_find(shop_id=shop_id, names=list(wanted.values()))
    missing = [name for key, name in wanted.items() if key not in found]
    if missing:
        Tag.objects.bulk_create(
            [Tag(shop_id=shop_id, name=name, colour=tag_colour_for(name)) for name in missing],
            ignore_conflicts=True,
        )
        found.update(_tags_find(shop_id=shop_id, names=missing))
    return [found[key] for key in wanted]


def _tags_change(*, ticket: Ticket, tags: list[Tag], actor: Actor) -> Ticket:
    """Give the (locked) ticket exactly these tags; the difference goes on the timeline."""
    current = {tag.pk: tag for tag in ticket.tags.all()}
    wanted = {tag.pk: tag for tag in tags}
    added = [tag for pk, tag in wanted.items() if pk not in current]
    removed = [tag for pk, tag in current.items() if pk not in wanted]
    if len(wanted) > TAGS_PER_TICKET and added:
        raise ApplicationError(
            "too_many_tags",
            gettext("A ticket has at most %(limit)s tags.") % {"limit": TAGS_PER_TICKET},
            fields={"tags": gettext("At most %(limit)s tags.") % {"limit": TAGS_PER_TICKET}},
        )
    if not added and not removed:
        return ticket
    if removed:
        ticket.tags.remove(*removed)
    if added:
        ticket.tags.add(*added)
    change = {
        "added": sorted(tag.name for tag in added),
        "removed": sorted(tag.name for tag in removed),
    }
    event_record(ticket=ticket, kind=TicketEvent.Kind.TAGS_CHANGED, actor=actor, data=change)
    hooks.emit(hooks.TICKET_UPDATED, ticket=ticket, changes={"tags": change}, actor=actor)
    return ticket


@transaction.atomic
def ticket_tags_set(*, ticket: Ticket, names: list[str], actor: Actor) -> Ticket:
    """Replace the ticket's tags with these names (unknown names become the shop's new tags)."""
    cleaned = [tag_name_clean(name) for name in names]
    locked = _locked(ticket.pk)
    tags = _tags_get_or_create(shop_id=locked.shop_id, names=cleaned)
    return _tags_change(ticket=locked, tags=tags, actor=actor)


@transaction.atomic
def ticket_tag_add(*, ticket: Ticket, name: str, actor: Actor) -> Ticket:
    name = tag_name_clean(name)
    locked = _locked(ticket.pk, with_tags=True)  # _tags_change reads them again
    current = list(locked.tags.all())
    if any(tag.name.lower() == name.lower() for tag in current):
        return locked
    (tag,) = _tags_get_or_create(shop_id=locked.shop_id, names=[name])
    return _tags_change(ticket=locked, tags=[*current, tag], actor=actor)


@transaction.atomic
def ticket_tag_remove(*, ticket: Ticket, name: str, actor: Actor) -> Ticket:
    name = tag_name_clean(name)
    locked = _locked(ticket.pk, with_tags=True)  # _tags_change reads them again
    current = list(locked.tags.all())
    kept = [tag for tag in current if tag.name.lower() != name.lower()]
    return _tags_change(ticket=locked, tags=kept, actor=actor)


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: Actor,
    tags: list[str] | None = None,
    priority: str | None = None,
) -> Ticket:
    """The ticket's editable fields (PATCH): either or both, in one transaction."""
    if priority is not None:
        ticket_priority_set(ticket=ticket, priority=priority, actor=actor)
    if tags is not None:
        ticket_tags_set(ticket=ticket, names=tags, actor=actor)
    return ticket


# --- Bulk actions -----------------------------------------------------------------------------

BULK_MAX_TICKETS = 500
BULK_ACTIONS = ("assign", "transition", "add_tag", "remove_tag")


def _bulk_operation(*, action: str, value, actor: Actor):
    """The single-ticket service a bulk action applies, with its value checked once for the whole
    request (a bad one is a 400, before any ticket is touched)."""
    if action == "assign":
        if value is None:
            return lambda ticket: ticket_assign(ticket=ticket, assignee=None, actor=actor)
        assignee = (
            User.objects.filter(username=value, is_active=True).first()
            if isinstance(value, str)
            else None
        )
        if assignee is None:
            raise ApplicationError(
                "invalid_assignee",
                gettext("No active user '%(name)s'.") % {"name": value},
                fields={"value": gettext("No such active user.")},
            )
        return lambda ticket: ticket_assign(ticket=ticket, assignee=assignee, actor=actor)
    if action == "transition":
        if value not in STAFF_ACTIONS:  # merge is its own service, never a bulk transition
            raise _invalid(
                "value",
                gettext("Unknown action; use one of: %(actions)s.")
                % {"actions": ", ".join(STAFF_ACTIONS)},
            )
        return lambda ticket: ticket_transition(ticket=ticket, action=value, actor=actor)
    if action in ("add_tag", "remove_tag"):
        try:
            name = tag_name_clean(value)
        except ApplicationError as exc:
            raise _invalid("value", exc.fields["tags"]) from None
        service = ticket_tag_add if action == "add_tag" else ticket_tag_remove
        return lambda ticket: service(ticket=ticket, name=name, actor=actor)
    raise _invalid(
        "action",
        gettext("Unknown action; use one of: %(actions)s.") % {"actions": ", ".join(BULK_ACTIONS)},
    )


def tickets_bulk(
    *, shop_ids: list[int], numbers: list[str], action: str, value, actor: Actor
) -> dict:
    """One action on many tickets, each on its own: every ticket goes through the single-ticket
    service in its own transaction, so one that fails (an illegal transition, an assignee from
    another shop) is reported and never blocks the others. A number the caller cannot see is
    `not_found`, whether it does not exist or is another shop's. Not one transaction on purpose.

    Returns {"done": [numbers], "failed": [{"number", "error": {"code", "message"}}]}."""
    if len(numbers) > BULK_MAX_TICKETS:
        raise _invalid(
            "numbers",
            gettext("At most %(limit)s tickets at once.") % {"limit": BULK_MAX_TICKETS},
        )
    operation = _bulk_operation(action=action, value=value, actor=actor)
    numbers = list(dict.fromkeys(n for n in numbers if isinstance(n, str)))
    tickets = {
        ticket.number: ticket
        for ticket in Ticket.objects.filter(
            shop_id__in=shop_ids, number__in=[n for n in numbers if "\x00" not in n]
        )
    }
    done, failed = [], []
    for number in numbers:
        ticket = tickets.get(number)
        if ticket is None:
            failed.append(
                {
                    "number": number,
                    "error": {"code": "not_found", "message": gettext("No such ticket.")},
                }
            )
            continue
        try:
            operation(ticket)
        except ApplicationError as exc:
            message = exc.message
            if exc.code == "validation_error":
                message = next(
                    (v for v in (exc.fields or {}).values() if isinstance(v, str)), message
                )
            failed.append({"number": number, "error": {"code": exc.code, "message": message}})
        else:
            done.append(number)
    return {"done": done, "failed": failed}


# --- Saved queue views ------------------------------------------------------------------------

SAVED_VIEW_NAME_MAX_LENGTH = 50
SAVED_VIEWS_PER_USER = 50


@transaction.atomic
def saved_view_create(*, user, name: str, query: str, shop_id: int | None = None) -> SavedView:
    """Save a queue filter (its query string, already reduced to the queue's own parameters)
    under a name of the agent's; names are unique per agent."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", gettext("Give the view a name."))
    if len(name) > SAVED_VIEW_NAME_MAX_LENGTH:
        raise _too_long("name", name, SAVED_VIEW_NAME_MAX_LENGTH)
    if any(unicodedata.category(char)[0] == "C" for char in name):
        raise _invalid("name", gettext("The name may not contain control characters."))
    if len(query) > SavedView._meta.get_field("query").max_length:
        raise _invalid("query", gettext("This filter is too long to save."))
    duplicate = ApplicationError(
        "duplicate_name",
        gettext("You already have a view named “%(name)s”.") % {"name": name},
        status_code=409,
    )
    views = SavedView.objects.filter(user=user)
    if views.filter(name=name).exists():
        raise duplicate
    if views.count() >= SAVED_VIEWS_PER_USER:
        raise ApplicationError(
            "too_many_views",
            gettext("At most %(limit)s saved views; delete one first.")
            % {"limit": SAVED_VIEWS_PER_USER},
        )
    try:
        with transaction.atomic():
            return SavedView.objects.create(user=user, shop_id=shop_id, name=name, query=query)
    except IntegrityError:  # the same name saved at the same moment in another tab
        raise duplicate from None


@transaction.atomic
def saved_view_delete(*, user, view_id: int) -> None:
    """Delete one of the agent's own views (another's is not found)."""
    deleted, _ = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise ApplicationError(
            "not_found", gettext("That saved view does not exist."), status_code=404
        )
