"""Reads of tickets, always scoped to what the caller may see."""

import copy
import datetime as dt
import re
from collections import defaultdict
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    F,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, Replace
from django.http import Http404
from django.utils import timezone

from aftersales import hooks
from aftersales.db import instances_read, joined_columns, joined_rows, unique_row
from aftersales.prefetch import set_prefetched
from shops.authentication import ShopKeyUser
from shops.config import shop_config
from shops.models import Shop
from shops.selectors import shop_ids_for_user
from tickets.forms import STATUS_ALL
from tickets.models import (
    Attachment,
    Customer,
    DisputeType,
    Message,
    Order,
    OrderItem,
    ReplyTemplate,
    SavedView,
    Tag,
    Ticket,
    TicketEvent,
    earliest_due,
    phone_digits,
)
from tickets.services import shop_dispute_types
from tickets.states import ACTIVE_STATUS_LIST, Status


def visible_shop_ids(user) -> list[int]:
    if isinstance(user, ShopKeyUser):
        return [user.shop.id]
    return shop_ids_for_user(user=user)


def with_tags(queryset: QuerySet) -> QuerySet:
    """Each ticket with its tags for `Ticket.tag_list`: on PostgreSQL two array columns of the
    ticket's own row (names and colours, by name), so listing tags costs no query; elsewhere
    (`make run` on SQLite) a prefetch."""
    if connection.vendor != "postgresql":
        return queryset.prefetch_related("tags")
    return queryset.annotate(tag_names=_TAG_NAMES, tag_colours=_TAG_COLOURS)


def _tags_array(column: str) -> RawSQL:
    # Written out, not an ArraySubquery of the ORM: building, resolving and compiling the two
    # correlated subqueries cost a millisecond per ticket read (ticket page, queue). The outer
    # table is the top-level query's own (a queryset used as a subquery drops its annotations).
    tag, link, ticket = (
        Tag._meta.db_table,
        Ticket.tags.through._meta.db_table,
        Ticket._meta.db_table,
    )
    return RawSQL(
        f'ARRAY(SELECT tag."{column}" FROM "{tag}" tag JOIN "{link}" link ON link.tag_id = tag.id'
        f' WHERE link.ticket_id = "{ticket}".id ORDER BY tag.name, tag.id)',
        (),
        output_field=ArrayField(CharField()),
    )


_TAG_NAMES, _TAG_COLOURS = _tags_array("name"), _tags_array("colour")


def ticket_base_queryset() -> QuerySet:
    """Tickets with their shop, customer, order, assignee and items; ticket_get adds the dispute
    type from what the process keeps of the shop's configuration (_kept_dispute_type_attach)."""
    return with_tags(
        Ticket.objects.select_related("shop", "customer", "order", "assignee").prefetch_related(
            Prefetch("order__items", queryset=OrderItem.objects.order_by("id"))
        )
    )


def for_output_page(queryset: QuerySet) -> QuerySet:
    """with_output_relations for a page of many tickets: PAGE_JOINS and the dispute type joined;
    the page then goes through tickets_attach_shared(page, merged_into=True)."""
    joins = queryset.select_related(None).select_related(*PAGE_JOINS, "dispute_type")
    return hooks.chain(hooks.TICKET_OUTPUT_QUERYSET, joins)


def with_output_relations(queryset: QuerySet) -> QuerySet:
    """With what the API's ticket body shows: the number it was merged into, and what the features
    add (disputes: judgments and compensations), prefetched by the features themselves
    (aftersales.hooks)."""
    return hooks.chain(hooks.TICKET_OUTPUT_QUERYSET, queryset.select_related("merged_into"))


def tickets_visible_to(user) -> QuerySet:
    return ticket_base_queryset().filter(shop_id__in=visible_shop_ids(user))


def tagged(*, shop_ids: list[int], name: str) -> Q:
    """Tickets carrying the shop's tag of that name (any case): the tag is found first by its
    (shop, lower(name)) unique index, then the tickets through the link table."""
    tags = Tag.objects.annotate(lowered=Lower("name")).filter(
        shop_id__in=shop_ids, lowered=name.strip().lower()
    )
    return Q(tags__in=tags.values("pk"))


class QueueLists(NamedTuple):
    tags: list[Tag]  # the shops' tags, by name: the tag filter and the bulk bar's suggestions
    saved_views: list[SavedView]  # the agent's own, by name
    colleagues: list[str]  # usernames of the other active staff of the shops: bulk assign


_TEXT = CharField()  # made once: a model field made per request writes a class attribute


def queue_lists(*, user, shop_ids: list[int]) -> QueueLists:
    """What the queue page lists beside its rows, read in one round trip (a UNION of three small
    selects, tagged by kind): the page stays within its query budget (bench: ≤ 10 per list)."""
    tags = (
        Tag.objects.filter(shop_id__in=shop_ids)
        .order_by()
        .values_list(Value("tag", output_field=_TEXT), "pk", "name", "colour")
    )
    views = (
        SavedView.objects.filter(user=user)
        .order_by()
        .values_list(Value("view", output_field=_TEXT), "pk", "name", "query")
    )
    colleagues = (
        get_user_model()
        .objects.filter(memberships__shop_id__in=shop_ids, is_active=True)
        .exclude(pk=user.pk)
        .order_by()
        .values_list(
            Value("user", output_field=_TEXT), "pk", "username", Value("", output_field=_TEXT)
        )
    )
    lists = QueueLists([], [], [])
    for kind, pk, name, extra in sorted(
        tags.union(views, colleagues), key=lambda row: (row[2], row[1])
    ):
        if kind == "tag":
            lists.tags.append(Tag(pk=pk, name=name, colour=extra))
        elif kind == "view":
            lists.saved_views.append(SavedView(pk=pk, user=user, name=name, query=extra))
        else:
            lists.colleagues.append(name)
    return lists


def ticket_get(*, user, number: str, for_output: bool = False) -> Ticket:
    """The ticket, or 404 when it does not exist or belongs to a shop the caller cannot see.
    for_output: with what the API's ticket body needs (see with_output_relations)."""
    if "\x00" in number:  # %00 in the URL; PostgreSQL refuses NUL in a query parameter
        raise Http404("No such ticket.")
    if for_output:
        ticket = unique_row(with_output_relations(tickets_visible_to(user)).filter(number=number))
    else:
        ticket = _ticket_read(shop_ids=visible_shop_ids(user), number=number)
    if ticket is None:
        raise Http404("No such ticket.")
    _kept_dispute_type_attach(ticket)
    return ticket


def _ticket_read(*, shop_ids: list[int], number: str) -> Ticket | None:
    """What ticket_base_queryset reads of one ticket (its shop, customer, order, assignee, tags and
    items), written out: the ticket page and each of its actions read it, and the ORM spent more
    building and compiling the five-table query than PostgreSQL spends answering it. Two queries
    (the ticket, its items), as the queryset's; on SQLite a third, its tags (with_tags)."""
    if not shop_ids:
        return None
    postgres = connection.vendor == "postgresql"
    sql = _TICKET_SQL.format(
        shops=", ".join(["%s"] * len(shop_ids)),
        tags=f", {_TAG_NAMES.sql}, {_TAG_COLOURS.sql}" if postgres else "",
    )
    rows = joined_rows(sql, [*shop_ids, number], _TICKET_MODELS)
    if not rows:
        return None
    (ticket, shop, customer, order, assignee), tags = rows[0]
    for name, related in (("shop", shop), ("customer", customer), ("order", order)):
        Ticket._meta.get_field(name).set_cached_value(ticket, related)
    Ticket.assignee.field.set_cached_value(ticket, assignee)
    items = joined_rows(_ITEMS_SQL, [order.pk], (OrderItem,))
    set_prefetched(order, "items", [item for (item,), _rest in items])
    if postgres:
        ticket.tag_names, ticket.tag_colours = tags
    else:
        prefetch_related_objects([ticket], "tags")
    return ticket


_TICKET_MODELS = (Ticket, Shop, Customer, Order, get_user_model())
_TICKET_SQL = (
    "SELECT "
    + joined_columns(*zip(("tickets_ticket", "s", "c", "o", "u"), _TICKET_MODELS, strict=True))
    + "{tags}"
    f" FROM {Ticket._meta.db_table}"
    f" JOIN {Shop._meta.db_table} s ON s.id = tickets_ticket.shop_id"
    f" JOIN {Customer._meta.db_table} c ON c.id = tickets_ticket.customer_id"
    f" JOIN {Order._meta.db_table} o ON o.id = tickets_ticket.order_id"
    f" LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = tickets_ticket.assignee_id"
    " WHERE tickets_ticket.shop_id IN ({shops}) AND tickets_ticket.number = %s"
)
_ITEMS_SQL = (
    f"SELECT {joined_columns(('i', OrderItem))} FROM {OrderItem._meta.db_table} i"
    " WHERE i.order_id = %s ORDER BY i.id"
)


def _kept_dispute_type_attach(ticket: Ticket) -> None:
    """The ticket's dispute type from what the process keeps of its shop's configuration, not
    joined: a join less to plan and build on every ticket read (bench/README.md, ticket page)."""
    dispute_type = shop_dispute_types(ticket.shop_id).by_id.get(ticket.dispute_type_id)
    if dispute_type is not None:
        ticket.dispute_type = copy.copy(dispute_type)


def ticket_events(*, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's timeline, oldest first. Written out, as the ticket page's other reads."""
    return instances_read(_EVENTS_SQL, [ticket.pk], TicketEvent)


def ticket_own_attachments(*, ticket: Ticket) -> list[Attachment]:
    """The ticket's own evidence (not its merged duplicates'), oldest first (as
    `ticket.attachments.all()`), written out."""
    return instances_read(_ATTACHMENTS_SQL, [ticket.pk], Attachment)


_EVENTS_SQL = (
    f"SELECT {joined_columns(('e', TicketEvent))} FROM {TicketEvent._meta.db_table} e"
    " WHERE e.ticket_id = %s ORDER BY e.created_at, e.id"
)
_ATTACHMENTS_SQL = (
    f"SELECT {joined_columns(('a', Attachment))} FROM {Attachment._meta.db_table} a"
    " WHERE a.ticket_id = %s ORDER BY a.created_at, a.id"
)


# --- Merged duplicates -------------------------------------------------------------------------


def merged_sources(*, ticket: Ticket) -> list[Ticket]:
    """The duplicates merged into the ticket, and those merged into them before (one query per
    generation, usually one), oldest first."""
    found: list[Ticket] = []
    generation = {ticket.pk: ticket}
    while generation:
        rows = list(
            Ticket.objects.filter(merged_into_id__in=generation.keys()).order_by("created_at", "id")
        )
        for row in rows:
            row.merged_into = generation[row.merged_into_id]  # in hand: not joined again
        found.extend(rows)
        generation = {row.pk: row for row in rows}
    return sorted(found, key=lambda row: (row.created_at, row.pk))


def merged_sources_for_page(*, ticket: Ticket, events: list[TicketEvent]) -> list[Ticket]:
    """merged_sources with their messages and evidence, for the ticket page's "Merged from".
    `events`: the ticket's timeline, which has a `merged` event "from" each duplicate merged into
    it (ticket_merge is the only way in): without one there is nothing to read."""
    if not any(
        event.kind == TicketEvent.Kind.MERGED and "from" in (event.data or {}) for event in events
    ):
        return []
    sources = merged_sources(ticket=ticket)
    if sources:
        prefetch_related_objects(
            sources,
            Prefetch("messages", queryset=Message.objects.order_by("created_at", "id")),
            Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id")),
        )
    return sources


def ticket_messages(*, ticket: Ticket) -> QuerySet:
    """The ticket's messages with those of the duplicates merged into it (each knows its ticket),
    in the order they were written. API.md "Merging duplicates"."""
    ids = [ticket.pk, *(row.pk for row in merged_sources(ticket=ticket))]
    return (
        Message.objects.filter(ticket_id__in=ids)
        .select_related("author", "ticket")
        .order_by("created_at", "id")
    )


def ticket_attachments(*, ticket: Ticket) -> QuerySet:
    """The ticket's evidence with that of the duplicates merged into it, oldest first."""
    ids = [ticket.pk, *(row.pk for row in merged_sources(ticket=ticket))]
    return (
        Attachment.objects.filter(ticket_id__in=ids)
        .select_related("ticket")
        .order_by("created_at", "id")
    )


DUPLICATE_WINDOW = dt.timedelta(days=7)
DUPLICATE_SUGGESTIONS_LIMIT = 10


def duplicate_suggestions(*, ticket: Ticket) -> list[Ticket]:
    """Likely duplicates of the ticket: the shop's other tickets still being worked on (not closed)
    with the same order number, or of the same customer and dispute type created within 7 days of
    it. One query; each row has `same_order` and `same_customer` (only those can be merged), and
    its dispute type and order with what the page shows of them."""
    if ticket.merged_into_id is not None or ticket.status == Status.CLOSED:
        return []
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "shop": ticket.shop_id,
        "order_no": ticket.order.order_no,
        "customer": ticket.customer_id,
        "dispute_type": ticket.dispute_type_id,
        "since": adapt(ticket.created_at - DUPLICATE_WINDOW),
        "until": adapt(ticket.created_at + DUPLICATE_WINDOW),
        "ticket": ticket.pk,
        "closed": Status.CLOSED.value,
        "limit": DUPLICATE_SUGGESTIONS_LIMIT,
    }
    rows = list(Ticket.objects.raw(_DUPLICATES_SQL, params))
    for row in rows:
        row.same_order, row.same_customer = bool(row.same_order), bool(row.same_customer)
        # What the page shows of them; any other field is read when asked for (deferred).
        row.dispute_type = DisputeType.from_db(
            connection.alias,
            ["id", "name_zh", "name_en"],
            [row.dispute_type_id, row.type_name_zh, row.type_name_en],
        )
        row.order = Order.from_db(
            connection.alias, ["id", "order_no"], [row.order_id, row.order_no]
        )
    return rows


# SQL, not the ORM: building and compiling this query (a union in a subquery, two joins, two
# computed flags) took Django three times as long as PostgreSQL took to answer it, on every
# ticket page. The two index scans (orders by shop and number, tickets by customer) are unioned:
# one OR across the joined order and the ticket made the planner scan all of the shop's tickets.
_DUPLICATES_SQL = f"""
SELECT t.*, o.order_no, dt.name_zh AS type_name_zh, dt.name_en AS type_name_en,
       o.order_no = %(order_no)s AS same_order, t.customer_id = %(customer)s AS same_customer
  FROM {Ticket._meta.db_table} t
  JOIN {Order._meta.db_table} o ON o.id = t.order_id
  JOIN {DisputeType._meta.db_table} dt ON dt.id = t.dispute_type_id
 WHERE t.id IN (SELECT same_order.id
                  FROM {Ticket._meta.db_table} same_order
                  JOIN {Order._meta.db_table} ordered ON ordered.id = same_order.order_id
                 WHERE ordered.shop_id = %(shop)s AND ordered.order_no = %(order_no)s
                 UNION
                SELECT id FROM {Ticket._meta.db_table}
                 WHERE customer_id = %(customer)s AND dispute_type_id = %(dispute_type)s
                   AND created_at >= %(since)s AND created_at <= %(until)s)
   AND t.shop_id = %(shop)s AND t.id <> %(ticket)s AND t.status <> %(closed)s
 ORDER BY same_order DESC, t.created_at, t.id
 LIMIT %(limit)s
"""


def sla_breached(ticket: Ticket, *, now: dt.datetime | None = None) -> bool:
    """A deadline really missed: first response or resolution. The one answer for the API's
    `sla.breached` and the ticket page's badge.

    A breach recorded by the SLA sweep (`sla_breached_at`) stays a breach. Otherwise the clock is
    read where it stands: while waiting on the customer it stopped when the wait began (the due
    times are moved on resume), and a closed ticket's clock stopped when it was closed."""
    if ticket.sla_breached_at is not None:
        return True
    clock = now or timezone.now()
    if ticket.sla_paused_at is not None:
        clock = min(clock, ticket.sla_paused_at)
    elif ticket.status == Status.PENDING_CUSTOMER:
        return False  # paused (without a recorded pause time): no deadline runs
    elif ticket.status == Status.CLOSED and ticket.closed_at is not None:
        clock = min(clock, ticket.closed_at)
    first_due, resolution_due = ticket.first_response_due_at, ticket.resolution_due_at
    responded, resolved = ticket.first_responded_at, ticket.resolved_at
    if first_due and (
        (responded and responded > first_due) or (not responded and clock > first_due)
    ):
        return True
    return bool(
        resolution_due
        and ((resolved and resolved > resolution_due) or (not resolved and clock > resolution_due))
    )


# --- A customer's history (one shop) --------------------------------------------------------

# The customer's page and API list at most this many tickets (and orders), the newest first.
CUSTOMER_TICKETS_LIMIT = 500


def customer_get(*, shop_id: int, external_id: str) -> Customer:
    """The shop's customer by their id in the shop's systems, or 404 (another shop's is unknown)."""
    if "\x00" in external_id:
        raise Http404("No such customer.")
    customer = (
        Customer.objects.select_related("shop")
        .filter(shop_id=shop_id, external_id=external_id)
        .first()
    )
    if customer is None:
        raise Http404("No such customer.")
    return customer


def customer_tickets(*, customer: Customer, limit: int = CUSTOMER_TICKETS_LIMIT) -> list[Ticket]:
    """The customer's tickets, newest first, with what a row shows (type, assignee, order)."""
    return list(
        Ticket.objects.filter(customer=customer)
        .select_related("dispute_type", "assignee", "order")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_tickets_count(*, customer: Customer) -> int:
    return Ticket.objects.filter(customer=customer).count()


def _customer_orders(customer: Customer) -> QuerySet:
    # Each ticket stores its own copy of the order: one order of the shop is one order number.
    return Order.objects.filter(ticket__customer=customer).values("order_no")


def customer_orders_count(*, customer: Customer) -> int:
    return _customer_orders(customer).distinct().count()


def customer_orders(*, customer: Customer, limit: int = CUSTOMER_TICKETS_LIMIT) -> list[dict]:
    """The customer's orders (by order number), the newest first: amount, when paid (or, without a
    payment time, when first claimed about) and how many tickets were opened on each."""
    return list(
        _customer_orders(customer)
        .annotate(
            amount=Max("amount"),
            paid_at=Min("paid_at"),
            first_ticket_at=Min("ticket__created_at"),
            tickets=Count("ticket"),
        )
        .order_by(F("paid_at").desc(nulls_last=True), "-first_ticket_at", "order_no")[:limit]
    )


def customer_risk_flags(*, customer: Customer) -> list[dict]:
    """The risk flags the features find on the customer (API.md "Risk"); empty when none."""
    return _flags(hooks.collect(hooks.CUSTOMER_RISK, customer=customer))


def _flags(found: dict) -> list[dict]:
    return [{"code": code, **flag} for code, flag in found.items()]


def tickets_risk_flags(tickets) -> dict[int, list[dict]]:
    """Each ticket's risk flags (API.md "Risk") by ticket id, read for the whole list at once
    (the features answer in a fixed number of queries)."""
    tickets = list(tickets)
    found = hooks.collect(hooks.TICKET_RISK, tickets=tickets) if tickets else {}
    return {ticket.pk: _flags(found.get(ticket.pk, {})) for ticket in tickets}


def attachments_risk_flags(attachments) -> dict[int, list[dict]]:
    """Each attachment's own risk flags (a photo reused, or older than the order) by id."""
    attachments = list(attachments)
    found = hooks.collect(hooks.ATTACHMENT_RISK, attachments=attachments) if attachments else {}
    return {attachment.pk: _flags(found.get(attachment.pk, {})) for attachment in attachments}


def customer_summary(*, customer: Customer) -> dict:
    """The API's customer body (API.md "Customers"): the core's fields, the risk flags, and what
    the features add (disputes: the compensation totals)."""
    return {
        "external_id": customer.external_id,
        "name": customer.name,
        "phone": customer.masked_phone,
        "tickets": customer_tickets(customer=customer),
        "orders_count": customer_orders_count(customer=customer),
        "risk": {"flags": customer_risk_flags(customer=customer)},
        **hooks.collect(hooks.CUSTOMER_OUTPUT, customer=customer),
    }


# --- The agent queue ---------------------------------------------------------------------------

QUEUE_DUE_SOON = dt.timedelta(hours=2)
QUEUE_SEARCH_MATCH_LIMIT = 50
# "due": the earliest deadline first (SLA due time or platform deadline, see models.earliest_due),
# the same expression as the queue's partial indexes so the planner reads them in order.
QUEUE_ORDERINGS = {
    "due": (F("earliest_due_at").asc(nulls_last=True), "id"),
    "newest": ("-created_at", "-id"),
    "updated": ("-updated_at", "-id"),
}


def _search_filter(*, q: str, shop_ids: list[int]) -> Q:
    """Exact match on ticket number, order number or customer phone.

    Orders and customers are looked up first, in one query (each part by its (shop, …) index), so
    the ticket query becomes an OR of indexed equalities instead of an OR across joined tables.
    """
    phone = re.sub(r"[\s-]", "", q)
    orders = Order.objects.filter(shop_id__in=shop_ids, order_no=q).values_list(
        Value("order"), "id"
    )
    customers = Customer.objects.filter(shop_id__in=shop_ids, phone=phone).values_list(
        Value("customer"), "id"
    )
    if connection.features.supports_slicing_ordering_in_compound:  # not SQLite (`make run`)
        orders, customers = orders[:QUEUE_SEARCH_MATCH_LIMIT], customers[:QUEUE_SEARCH_MATCH_LIMIT]
    found = defaultdict(list)
    for kind, pk in orders.union(customers, all=True):
        found[kind].append(pk)
    order_ids, customer_ids = found["order"], found["customer"]
    match = Q(number__in={q, q.upper()})
    if order_ids:
        match |= Q(order_id__in=order_ids)
    if customer_ids:
        match |= Q(customer_id__in=customer_ids)
    return match


def queue_tickets(*, user, shop_ids: list[int], filters: dict, now: dt.datetime) -> QuerySet:
    """The queue's rows, filtered and sorted, each with `earliest_due_at`; no COUNT: the caller
    slices one row past the page. The CSV export reads the same queryset. `shop_ids`: the shops
    the user works for (tickets.views.queue_params reads them once for the page)."""
    qs = (
        # The shop and the dispute type come from tickets_attach_shared (see PAGE_JOINS).
        with_tags(Ticket.objects.select_related(*PAGE_JOINS))
        .filter(shop_id__in=shop_ids)
        .annotate(earliest_due_at=earliest_due())
    )
    if filters["tab"] == "mine":
        qs = qs.filter(assignee=user)
    elif filters["tab"] == "unassigned":
        qs = qs.filter(assignee__isnull=True)

    status = filters["status"]
    if not status:
        # The same tuple the partial queue indexes are built on, so the planner can use them.
        qs = qs.filter(status__in=ACTIVE_STATUS_LIST)
    elif status != STATUS_ALL:
        qs = qs.filter(status=status)
    if filters["dispute_type"]:
        qs = qs.filter(dispute_type_id=filters["dispute_type"])
    if filters["priority"]:
        qs = qs.filter(priority=filters["priority"])
    # A paused ticket's SLA due time does not count (earliest_due is its platform deadline only).
    if filters.get("overdue"):
        qs = qs.filter(earliest_due_at__lt=now)
    elif filters["due_soon"]:
        qs = qs.filter(earliest_due_at__lte=now + QUEUE_DUE_SOON)
    if filters.get("tag"):
        qs = qs.filter(tagged(shop_ids=shop_ids, name=filters["tag"]))
    if filters["q"]:
        qs = qs.filter(_search_filter(q=filters["q"], shop_ids=shop_ids))
    return qs.order_by(*QUEUE_ORDERINGS[filters["sort"]])


# What a page of many tickets joins in its query: the rows that are each ticket's own. The shop
# and the merge target, of which a page has a few or none, are read apart (tickets_attach_shared):
# every join multiplies the planner's work, and at 1M tickets planning took most of a page's
# query (list API: 7.7 ms with all six joins, 1.6 without shop and merged_into; the queue, whose
# filter has read the dispute types already, 2.4 → 0.7 ms without shop and dispute type).
PAGE_JOINS = ("customer", "order", "assignee")


def tickets_attach_shared(
    tickets: list[Ticket],
    *,
    shops: tuple[Shop, ...] = (),
    dispute_types: list[DisputeType] | None = None,
    merged_into: bool = False,
) -> None:
    """Give a page of tickets read with PAGE_JOINS their shop (`shops`: ones the caller has, e.g.
    the API key's; the others in one query), with `dispute_types` (ones the caller read; any other
    in one query) their dispute type, and with `merged_into` the ticket each was merged into (one
    query, only when the page has merged tickets)."""
    if not tickets:
        return
    known_shops = {shop.pk: shop for shop in shops}
    missing = {t.shop_id for t in tickets} - known_shops.keys()
    if missing:
        known_shops.update(Shop.objects.in_bulk(missing))
    types = None
    if dispute_types is not None:
        types = {t.pk: t for t in dispute_types}
        missing = {t.dispute_type_id for t in tickets} - types.keys()
        if missing:
            types.update(DisputeType.objects.in_bulk(missing))
    targets = {t.merged_into_id for t in tickets if t.merged_into_id} if merged_into else set()
    merged = Ticket.objects.only("id", "number").in_bulk(targets) if targets else {}
    for ticket in tickets:
        ticket.shop = known_shops[ticket.shop_id]
        if types is not None:
            ticket.dispute_type = types[ticket.dispute_type_id]
        if merged_into:
            ticket.merged_into = merged.get(ticket.merged_into_id)


def customer_by_phone(*, shop_id: int, phone: str) -> Customer | None:
    """The shop's customer with this phone number (spaces and dashes ignored), the most recently
    seen first; None if nobody has it. Never another shop's."""
    digits = phone_digits(phone)
    if len(digits) < 3:
        return None
    stripped = Replace(Replace("phone", Value(" "), Value("")), Value("-"), Value(""))
    return (
        Customer.objects.filter(shop_id=shop_id)
        .annotate(phone_digits=stripped)
        .filter(phone_digits=digits)
        .order_by("-updated_at", "-id")
        .first()
    )


def customer_lookup(*, shop_id: int, text: str) -> Customer | None:
    """Who the agent means by what they typed: the shop's customer with that ID, else with that
    phone number."""
    text = text.strip()
    if not text or "\x00" in text:
        return None
    by_id = Customer.objects.filter(shop_id=shop_id, external_id=text).first()
    return by_id or customer_by_phone(shop_id=shop_id, phone=text)


def customer_order_latest(*, customer: Customer, order_no: str) -> Order | None:
    """The newest copy of one of the customer's orders (each ticket keeps its own), to start a
    new ticket on it."""
    return (
        Order.objects.filter(ticket__customer=customer, order_no=order_no)
        .order_by("-ticket__created_at", "-id")
        .first()
    )


def reply_templates_of_shop(shop_id: int) -> list[ReplyTemplate]:
    """The reply templates (macros) a shop's agents pick from: its own first, then the global
    ones, each group by position. Kept per process until the shop's configuration changes
    (shops.config): shared, so copy a template before setting anything on it."""
    return shop_config(
        shop_id,
        "reply_templates",
        lambda: list(
            ReplyTemplate.objects.filter(Q(shop_id=shop_id) | Q(shop__isnull=True)).order_by(
                F("shop_id").asc(nulls_last=True), "position", "id"
            )
        ),
    )


def reply_template_of_shop(shop_id: int, pk) -> ReplyTemplate | None:
    """The template `pk` if it is one of reply_templates_of_shop (one the shop's agents and rules
    may use), else None. Shared: read it, do not change it."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return next(
        (template for template in reply_templates_of_shop(shop_id) if template.pk == pk), None
    )
