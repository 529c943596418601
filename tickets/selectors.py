"""Reads of tickets, always scoped to what the caller may see."""

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from shops.authentication import ShopKeyUser
from shops.selectors import shop_ids_for_user
from tickets.models import OrderItem, Ticket, TicketEvent
from tickets.states import Status


def visible_shop_ids(user) -> list[int]:
    if isinstance(user, ShopKeyUser):
        return [user.shop.id]
    return shop_ids_for_user(user=user)


def ticket_base_queryset() -> QuerySet:
    return Ticket.objects.select_related("shop", "customer", "order", "dispute_type", "assignee").prefetch_related(
        Prefetch("order__items", queryset=OrderItem.objects.order_by("id"))
    )


def with_disputes(queryset: QuerySet) -> QuerySet:
    """Adds what the API's ticket body shows of disputes: the judgments (newest first) and compensations."""
    from disputes.models import Compensation, Judgment

    return queryset.prefetch_related(
        Prefetch("judgments", queryset=Judgment.objects.select_related("created_by").order_by("-version")),
        Prefetch("compensations", queryset=Compensation.objects.order_by("created_at", "id")),
    )


def tickets_visible_to(user) -> QuerySet:
    return ticket_base_queryset().filter(shop_id__in=visible_shop_ids(user))


def ticket_get(*, user, number: str, for_output: bool = False) -> Ticket:
    """The ticket, or 404 when it does not exist or belongs to a shop the caller cannot see.
    for_output: with what the API's ticket body needs (see with_disputes)."""
    if "\x00" in number:  # %00 in the URL; PostgreSQL refuses NUL in a query parameter
        raise Http404("No such ticket.")
    queryset = tickets_visible_to(user)
    ticket = (with_disputes(queryset) if for_output else queryset).filter(number=number).first()
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
    if first_due and ((responded and responded > first_due) or (not responded and clock > first_due)):
        return True
    if resolution_due and ((resolved and resolved > resolution_due) or (not resolved and clock > resolution_due)):
        return True
    return False
