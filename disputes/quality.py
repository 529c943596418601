"""Quality tickets and their batches (DOMAIN.md §7 batch alert, rule R7): the one definition that
the judgment panel, the API's suggestion and the analytics' batch alert all read.

A quality ticket is about the goods of a batch: a dispute type of the product category, except
customer_misuse (the customer's doing) and not_as_described (the listing's). A shop's own type
counts by its category and the rules it follows (`rules_as`)."""

import datetime as dt
from collections import Counter

from django.db.models import Q

from tickets.catalogue import DISPUTE_TYPES
from tickets.models import Ticket

QUALITY_CATEGORY = "product"
NOT_QUALITY_RULES = frozenset({"customer_misuse", "not_as_described"})
_CATEGORY_OF_CODE = {code: category for code, _zh, _en, category, _p, _photo in DISPUTE_TYPES}


def is_quality(*, category: str, rule_code: str) -> bool:
    return category == QUALITY_CATEGORY and rule_code not in NOT_QUALITY_RULES


def is_quality_type(dispute_type) -> bool:
    return is_quality(category=dispute_type.category, rule_code=dispute_type.rule_code)


def is_quality_code(code: str) -> bool:
    """For facts built from a code alone (the rules' tests): the global type of that code."""
    return is_quality(category=_CATEGORY_OF_CODE.get(code, ""), rule_code=code)


def quality_types_q(prefix: str = "dispute_type__") -> Q:
    """is_quality_type as a query filter on the dispute type at `prefix`."""
    follows_excluded = Q(**{f"{prefix}rules_as__in": NOT_QUALITY_RULES}) | Q(
        **{f"{prefix}rules_as": "", f"{prefix}code__in": NOT_QUALITY_RULES}
    )
    return Q(**{f"{prefix}category": QUALITY_CATEGORY}) & ~follows_excluded


def ticket_batches(ticket: Ticket) -> list[tuple[str, str]]:
    """The SKU+batch pairs a ticket is about: its items with a batch number, restricted to the
    affected SKUs when the shop named them (none named: every item of the order)."""
    affected = {row["sku"] for row in ticket.affected_items or []}
    pairs = {
        (item.sku, item.batch_no)
        for item in ticket.order.items.all()
        if item.batch_no and (not affected or item.sku in affected)
    }
    return sorted(pairs)


def _quality_tickets(*, shop_id: int, since: dt.datetime, until: dt.datetime | None):
    """The shop's quality tickets created in [since, until]."""
    tickets = Ticket.objects.filter(quality_types_q(), shop_id=shop_id, created_at__gte=since)
    return tickets if until is None else tickets.filter(created_at__lte=until)


def quality_ticket_ids(
    *, shop_id: int, sku: str, batch_no: str, since: dt.datetime, until: dt.datetime | None = None
) -> list[int]:
    """The shop's quality tickets created in [since, until] whose order holds that SKU+batch."""
    tickets = _quality_tickets(shop_id=shop_id, since=since, until=until).filter(
        order__items__sku=sku, order__items__batch_no=batch_no
    )
    return list(tickets.values_list("id", flat=True).distinct().order_by("id"))


def same_batch_ticket_count(*, ticket: Ticket, window_days: int) -> int:
    """The most quality tickets on any of this ticket's SKU+batch pairs within the window that
    ends at its creation, this one included when it is a quality ticket itself. One query for
    all the pairs (quality_ticket_ids' tickets, with the item that matched)."""
    pairs = ticket_batches(ticket)
    if not pairs:
        return 0
    on_a_pair = Q(
        *[Q(order__items__sku=sku, order__items__batch_no=batch_no) for sku, batch_no in pairs],
        _connector=Q.OR,
    )
    rows = (
        _quality_tickets(
            shop_id=ticket.shop_id,
            since=ticket.created_at - dt.timedelta(days=window_days),
            until=ticket.created_at,
        )
        .filter(on_a_pair)  # one join of the items: the pair read below is the one that matched
        .values_list("order__items__sku", "order__items__batch_no", "id")
        .distinct()
        .order_by()
    )
    return max(Counter((sku, batch_no) for sku, batch_no, _id in rows).values(), default=0)
