"""Reads of tickets, always scoped to what the caller may see."""

import datetime as dt
import re

from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from aftersales import hooks
from shops.authentication import ShopKeyUser
from shops.selectors import shop_ids_for_user
from tickets.forms import STATUS_ALL
from tickets.models import Customer, Order, OrderItem, Ticket, TicketEvent, earliest_due
from tickets.states import ACTIVE_STATUS_LIST, Status


def visible_shop_ids(user) -> list[int]:
    if isinstance(user, ShopKeyUser):
        return [user.shop.id]
    return shop_ids_for_user(user=user)


def ticket_base_queryset() -> QuerySet:
    return Ticket.objects.select_related(
        "shop", "customer", "order", "dispute_type", "assignee"
    ).prefetch_related(Prefetch("order__items", queryset=OrderItem.objects.order_by("id")))


def with_output_relations(queryset: QuerySet) -> QuerySet:
    """With what the API's ticket body shows of the features (disputes: judgments and
    compensations), prefetched by the features themselves (aftersales.hooks)."""
    return hooks.chain(hooks.TICKET_OUTPUT_QUERYSET, queryset)


def tickets_visible_to(user) -> QuerySet:
    return ticket_base_queryset().filter(shop_id__in=visible_shop_ids(user))


def ticket_get(*, user, number: str, for_output: bool = False) -> Ticket:
    """The ticket, or 404 when it does not exist or belongs to a shop the caller cannot see.
    for_output: with what the API's ticket body needs (see with_output_relations)."""
    if "\x00" in number:  # %00 in the URL; PostgreSQL refuses NUL in a query parameter
        raise Http404("No such ticket.")
    queryset = tickets_visible_to(user)
    ticket = (
        (with_output_relations(queryset) if for_output else queryset).filter(number=number).first()
    )
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def ticket_events(*, ticket: Ticket) -> QuerySet:
    return TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id")


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
    flags = hooks.collect(hooks.CUSTOMER_RISK, customer=customer)
    return [{"code": code, **flag} for code, flag in flags.items()]


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

    Orders and customers are looked up first (each by its (shop, …) index) so the ticket query
    becomes an OR of indexed equalities instead of an OR across joined tables.
    """
    phone = re.sub(r"[\s-]", "", q)
    order_ids = list(
        Order.objects.filter(shop_id__in=shop_ids, order_no=q).values_list("id", flat=True)[
            :QUEUE_SEARCH_MATCH_LIMIT
        ]
    )
    customer_ids = list(
        Customer.objects.filter(shop_id__in=shop_ids, phone=phone).values_list("id", flat=True)[
            :QUEUE_SEARCH_MATCH_LIMIT
        ]
    )
    match = Q(number__in={q, q.upper()})
    if order_ids:
        match |= Q(order_id__in=order_ids)
    if customer_ids:
        match |= Q(customer_id__in=customer_ids)
    return match


def queue_tickets(*, user, shop_ids: list[int], filters: dict, now: dt.datetime) -> QuerySet:
    """The queue's rows, filtered and sorted, each with `earliest_due_at`; no COUNT: the caller
    slices one row past the page. The CSV export reads the same queryset."""
    qs = (
        tickets_visible_to(user).prefetch_related(None).annotate(earliest_due_at=earliest_due())
    )  # no order items
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
    if filters["q"]:
        qs = qs.filter(_search_filter(q=filters["q"], shop_ids=shop_ids))
    return qs.order_by(*QUEUE_ORDERINGS[filters["sort"]])
