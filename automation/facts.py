"""What a condition reads: the ticket's facts (its order, customer, tags, the customer's message,
the compensation decided) and the comparison of each operator. Money is compared as Decimal;
text comparisons ignore case and surrounding space, and `contains` finds Chinese words as well."""

from decimal import Decimal
from typing import NamedTuple

from django.db.models import OuterRef, QuerySet, Subquery

from tickets.models import Message, Ticket

# What `awaiting_reply` and `message.body` read, as subqueries of a query of many tickets
# (with_message_facts): Facts uses them when the ticket row has them.
_LAST_PUBLIC_AUTHOR = "last_public_author_kind"
_LAST_CUSTOMER_BODY = "last_customer_message_body"


def _public_messages():
    return Message.objects.filter(internal=False).order_by("-created_at", "-id")


def _last_public_author(ticket_id):
    return (
        _public_messages()
        .filter(ticket_id=ticket_id)
        .exclude(author_kind=Message.Author.SYSTEM)
        .values("author_kind")[:1]
    )


def _last_customer_body(ticket_id):
    return (
        _public_messages()
        .filter(ticket_id=ticket_id, author_kind=Message.Author.CUSTOMER)
        .values("body")[:1]
    )


class Facts:
    """The values of the fields of automation.spec.FIELDS for one ticket (and event), read lazily:
    a rule that never asks about messages costs no message query."""

    def __init__(self, ticket: Ticket, *, message: Message | None = None, compensation=None):
        self.ticket, self.message, self.compensation = ticket, message, compensation
        self._cache: dict = {}
        self._stale = False

    def get(self, field: str):
        if field not in self._cache:
            if self._stale:
                self._reload()
            self._cache[field] = self._read(field)
        return self._cache[field]

    def _read(self, field: str):
        t = self.ticket
        if field == "dispute_type":
            return t.dispute_type.code
        if field == "dispute_category":
            return t.dispute_type.category
        if field in ("status", "priority", "channel", "description", "requested_resolution"):
            return getattr(t, field)
        if field == "assignee":
            return t.assignee.get_username() if t.assignee_id else ""
        if field == "tags":
            return [tag.name for tag in t.tags.all()]
        if field == "awaiting_reply":
            if hasattr(t, _LAST_PUBLIC_AUTHOR):
                last = getattr(t, _LAST_PUBLIC_AUTHOR)
            else:
                last = next(
                    iter(_last_public_author(t.pk).values_list("author_kind", flat=True)), None
                )
            return last in (None, Message.Author.CUSTOMER)
        if field == "order.amount":
            return _decimal(t.order.amount)
        if field == "order.courier":
            return t.order.courier
        if field == "order.order_no":
            return t.order.order_no
        if field == "order.skus":
            return [item.sku for item in t.order.items.all()]
        if field == "order.perishable":
            return any(item.perishable for item in t.order.items.all())
        if field == "customer.external_id":
            return t.customer.external_id
        if field == "customer.name":
            return t.customer.name
        if field == "message.body":
            if self.message is not None:
                return self.message.body
            # Not a message event (time rules, the preview): the customer's latest message.
            if hasattr(t, _LAST_CUSTOMER_BODY):
                return getattr(t, _LAST_CUSTOMER_BODY)
            return next(iter(_last_customer_body(t.pk).values_list("body", flat=True)), None)
        if field.startswith("compensation."):
            if self.compensation is None:
                return None
            value = getattr(self.compensation, field.split(".", 1)[1])
            return _decimal(value) if field == "compensation.amount" else value
        raise KeyError(field)

    def refresh(self) -> None:
        """After a rule changed the ticket: the next rule reads what it did (the ticket is read
        again when a fact is next asked for, not when no rule is left to ask)."""
        self._cache.clear()
        self._stale = True

    def reload_if_stale(self) -> None:
        if self._stale:
            self._reload()

    def _reload(self) -> None:
        # In place: the ticket may be the caller's (ticket_create's answer), which is to show
        # what the rules did.
        ticket_reload_after_rules(self.ticket)
        self._stale = False


# What no rule action changes (automation.spec's actions touch the ticket's own columns, its tags,
# its messages and timeline): kept in hand across the reload after rules acted, so the caller
# (the API's answer, the batch check after commit) does not read them again.
_RELATED_KEPT = ("shop", "customer", "order", "dispute_type")
_PREFETCHED_KEPT = ("judgments", "compensations", "attachments", "risk_dismissals")


def ticket_reload_after_rules(ticket: Ticket) -> None:
    """The ticket object, in place, as the rules left it: its own columns read again, its tags,
    messages and timeline dropped to be read when asked; its shop, customer, order (with its
    items), dispute type, judgments, compensations, evidence and flag dismissals kept."""
    related = {}
    for name in _RELATED_KEPT:
        field = Ticket._meta.get_field(name)
        if field.is_cached(ticket):
            related[field] = field.get_cached_value(ticket)
    prefetched = {
        name: rows
        for name, rows in getattr(ticket, "_prefetched_objects_cache", {}).items()
        if name in _PREFETCHED_KEPT
    }
    ticket.refresh_from_db()
    for field, value in related.items():
        if value is not None and getattr(ticket, field.attname) == value.pk:
            field.set_cached_value(ticket, value)
    if prefetched:
        ticket._prefetched_objects_cache = {
            **getattr(ticket, "_prefetched_objects_cache", {}),
            **prefetched,
        }


def _decimal(value) -> Decimal | None:
    """Money as Decimal (a just-created order may still hold the API's decimal string)."""
    return None if value is None else Decimal(str(value))


def _norm(value):
    if isinstance(value, str):
        return value.strip().casefold()
    return value


class Compiled(NamedTuple):
    """Conditions with their values prepared once (normalised words, Decimal amounts, sets)."""

    all: tuple
    any: tuple


def _prepare(cond: dict) -> tuple:
    value = cond["value"]
    if isinstance(value, list):
        prepared = frozenset(_norm(v) for v in value)
        words = tuple(_norm(v) for v in value)
    else:
        prepared = _norm(value)
        words = (prepared,)
    return cond["field"], cond["op"], prepared, words


def with_message_facts(tickets: QuerySet, compiled: Compiled) -> QuerySet:
    """`tickets` with what the conditions read of the messages (`awaiting_reply`, `message.body`)
    as subqueries of the same query: one query for a batch of tickets, not one per ticket (the
    preview, the time rules' scan)."""
    fields = {condition[0] for condition in (*compiled.all, *compiled.any)}
    if "awaiting_reply" in fields:
        tickets = tickets.annotate(
            **{_LAST_PUBLIC_AUTHOR: Subquery(_last_public_author(OuterRef("pk")))}
        )
    if "message.body" in fields:
        tickets = tickets.annotate(
            **{_LAST_CUSTOMER_BODY: Subquery(_last_customer_body(OuterRef("pk")))}
        )
    return tickets


def compile_conditions(conditions: dict) -> Compiled:
    return Compiled(
        tuple(_prepare(c) for c in conditions.get("all", [])),
        tuple(_prepare(c) for c in conditions.get("any", [])),
    )


def _compare(op: str, actual, expected, words: tuple) -> bool:
    """`expected`: the prepared value (a frozenset for several); `words`: the same as a tuple."""
    if isinstance(actual, list):  # tags, SKUs
        have = {_norm(v) for v in actual}
        wanted = expected if isinstance(expected, frozenset) else {expected}
        if op in ("contains", "in"):
            return not have.isdisjoint(wanted)
        if op == "not_in":
            return have.isdisjoint(wanted)
        return False
    if actual is None:
        # A fact the ticket does not have (no amount, no compensation, no message) matches
        # only "is not" / "is none of".
        return op in ("ne", "not_in")
    if isinstance(actual, Decimal):
        if isinstance(expected, frozenset):
            hit = any(actual == Decimal(v) for v in expected)
            return hit if op == "in" else not hit
        target = Decimal(expected)
        return {
            "eq": actual == target,
            "ne": actual != target,
            "gte": actual >= target,
            "lte": actual <= target,
        }.get(op, False)
    if isinstance(actual, bool):
        return (actual == expected) if op == "eq" else (actual != expected)
    actual = _norm(actual)
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "contains":
        return any(word in actual for word in words)
    return False


def compiled_match(compiled: Compiled, facts: Facts) -> bool:
    """`all` must all hold and, when given, at least one of `any`. No conditions: always."""
    for field, op, expected, words in compiled.all:
        if not _compare(op, facts.get(field), expected, words):
            return False
    return not compiled.any or any(
        _compare(op, facts.get(field), expected, words)
        for field, op, expected, words in compiled.any
    )


def conditions_match(conditions: dict, facts: Facts) -> bool:
    return compiled_match(compile_conditions(conditions), facts)
