"""Domain events: the core says what happened, the features that care subscribe to it.

A producer calls ``hooks.emit(TICKET_CREATED, ticket=ticket, now=now)`` and never imports its
consumers (as Zulip's ``queue_event_on_commit`` and Saleor's plugin manager work). Features
subscribe in their ``AppConfig.ready()``, so the core (``tickets``) stays below them:

    assignment hands out waiting tickets when an assigned one leaves the active statuses
               (status changed, after commit) or is taken from its agent (updated, after commit)
    sla        keeps each ticket's timers (created, status changed, clock changed)
    disputes   escalates spoiled food to the supervisors (created)
    analytics  checks the batch-quality alert (created, after commit)

Two kinds of subscriber:

- **in the transaction** (``subscribe(EVENT)``): runs at ``emit``, inside the producer's
  transaction and with its rows locked; an exception rolls the whole write back.
- **after commit** (``subscribe(EVENT, after_commit=True)``): runs once the producer's
  transaction has committed (``transaction.on_commit(robust=True)``): it sees what other
  transactions committed meanwhile, and its failure is logged and never undoes the write.

Subscribers run in the order they subscribed: the order of ``INSTALLED_APPS``.

**Extension points** are the other direction: the core asks and the features answer, so that a
page or body of the core can show what a feature knows without importing it (Saleor's plugin
manager calls). A feature registers with ``provide(POINT)``; the core calls ``collect`` (dicts
merged) or ``chain`` (each provider transforms the value in turn).
"""

from collections.abc import Callable

from django.db import transaction

# name -> what its subscribers receive (keyword arguments). Emitting or subscribing to a name
# not listed here is a programming error, caught at once.
EVENTS = {
    "ticket_created": "ticket, now — the ticket was inserted (its items, timeline and outbox row too)",
    "ticket_status_changed": "ticket, previous, now, actor — the status moved (clock fields saved)",
    "ticket_clock_changed": "ticket, now — a due time or first response changed without a status change",
    "message_added": "ticket, message, actor — a message or internal note was stored",
    "attachment_added": "ticket, attachment, actor — evidence was stored (its file saved)",
    "compensation_decided": "compensation, actor — approved or rejected by a supervisor (or auto-approved)",
    "compensation_executed": "compensation, actor — the shop reported it done",
    "ticket_updated": (
        "ticket, changes, actor (and previous_assignee_id when the assignee changed) — priority,"
        " tags or assignee changed; changes: field -> new value"
        " ({'priority': 'urgent'}, {'tags': {'added': [...], 'removed': [...]}}, {'assignee': name})"
    ),
    "sla_warning": "ticket, target, due_at, now — an SLA 80 % warning fired (sla's timers)",
}
TICKET_CREATED = "ticket_created"
TICKET_STATUS_CHANGED = "ticket_status_changed"
TICKET_CLOCK_CHANGED = "ticket_clock_changed"
MESSAGE_ADDED = "message_added"
ATTACHMENT_ADDED = "attachment_added"
COMPENSATION_DECIDED = "compensation_decided"
COMPENSATION_EXECUTED = "compensation_executed"
TICKET_UPDATED = "ticket_updated"
SLA_WARNING = "sla_warning"

# Extension points: name -> what a provider receives and returns.
POINTS = {
    "ticket_output_queryset": "queryset -> queryset: prefetch what the API's ticket body shows",
    "ticket_page_context": "ticket -> dict: added to the workspace's ticket page context",
    "reply_template_values": "ticket -> dict: placeholders a reply template can fill",
    "workspace_labels": "() -> dict: name -> TextChoices, for the workspace's |label filter",
    "customer_output": "customer -> dict: fields added to the API's customer body",
    "customer_page_sections": (
        "customer -> dict: name -> {'template': ..., ...}: sections of the workspace's customer page"
    ),
    "customer_risk": (
        "customer -> dict: flag code -> {'message': ..., 'refs': [...]}: the customer's risk flags"
    ),
    "merge_blockers": (
        "ticket -> dict: code -> sentence (reader's language): why the ticket cannot be merged "
        "into another now; asked with the ticket's row locked"
    ),
    "ticket_risk": (
        "tickets -> dict: ticket id -> {flag code -> {'message': ..., 'refs': [...]}}: the risk flags"
        " of a page of tickets, read in a fixed number of queries however many tickets"
    ),
    "attachment_risk": (
        "attachments -> dict: attachment id -> {flag code -> {'message': ..., 'refs': [...]}}: each"
        " piece of evidence's own risk flags, in a fixed number of queries"
    ),
    "new_ticket_assignee": (
        "shop, dispute_type -> dict: {'assignee': user, 'mode': str} or {}: who gets a ticket"
        " about to be created, asked inside the creation's transaction just before its INSERT (so"
        " the ticket is written with its assignee, not updated after); a provider may lock rows"
        " until the creation commits"
    ),
    "compensation_review_reasons": (
        "tickets -> dict: ticket id -> {code -> message}: why each ticket's compensation must wait"
        " for a supervisor whatever its amount (disputes' authority rule and approval inbox ask)"
    ),
}
TICKET_OUTPUT_QUERYSET = "ticket_output_queryset"
TICKET_PAGE_CONTEXT = "ticket_page_context"
REPLY_TEMPLATE_VALUES = "reply_template_values"
WORKSPACE_LABELS = "workspace_labels"
CUSTOMER_OUTPUT = "customer_output"
CUSTOMER_PAGE_SECTIONS = "customer_page_sections"
CUSTOMER_RISK = "customer_risk"
MERGE_BLOCKERS = "merge_blockers"
TICKET_RISK = "ticket_risk"
ATTACHMENT_RISK = "attachment_risk"
COMPENSATION_REVIEW_REASONS = "compensation_review_reasons"
NEW_TICKET_ASSIGNEE = "new_ticket_assignee"

_providers: dict[str, list[Callable]] = {name: [] for name in POINTS}
_in_transaction: dict[str, list[Callable]] = {name: [] for name in EVENTS}
_after_commit: dict[str, list[Callable]] = {name: [] for name in EVENTS}


def _known(event: str) -> str:
    if event not in EVENTS:
        raise KeyError(f"unknown domain event {event!r}; declare it in aftersales.hooks.EVENTS")
    return event


def subscribe(event: str, *, after_commit: bool = False) -> Callable[[Callable], Callable]:
    """Decorator: call the function with the event's keyword arguments. Subscribing the same
    function twice (a second ``ready()`` in tests) keeps one subscription."""
    registry = (_after_commit if after_commit else _in_transaction)[_known(event)]

    def register(handler: Callable) -> Callable:
        if handler not in registry:
            registry.append(handler)
        return handler

    return register


def emit(event: str, **payload) -> None:
    for handler in _in_transaction[_known(event)]:
        handler(**payload)
    for handler in _after_commit[event]:
        transaction.on_commit(_deferred(handler, payload), robust=True)


def _deferred(handler: Callable, payload: dict) -> Callable[[], None]:
    """handler(**payload) as a function with the handler's name: Django's robust on_commit logs a
    failure by the callable's __qualname__, which a functools.partial does not have (it would
    raise AttributeError out of the commit instead of logging)."""

    def run() -> None:
        handler(**payload)

    run.__qualname__ = getattr(handler, "__qualname__", repr(handler))
    return run


def provide(point: str) -> Callable[[Callable], Callable]:
    """Decorator: answer the extension point `point` (see POINTS)."""
    if point not in POINTS:
        raise KeyError(f"unknown extension point {point!r}; declare it in aftersales.hooks.POINTS")

    def register(provider: Callable) -> Callable:
        if provider not in _providers[point]:
            _providers[point].append(provider)
        return provider

    return register


def collect(point: str, **kwargs) -> dict:
    """Every provider's dict, merged in order."""
    merged: dict = {}
    for provider in _providers[point]:
        merged.update(provider(**kwargs))
    return merged


def chain(point: str, value):
    """The value passed through every provider in order."""
    for provider in _providers[point]:
        value = provider(value)
    return value


def subscribers(event: str) -> list[str]:
    """Who listens, in order ("module.function", after-commit ones marked): for the README and tests."""
    names = [f"{h.__module__}.{h.__qualname__}" for h in _in_transaction[_known(event)]]
    return names + [f"{h.__module__}.{h.__qualname__} (after commit)" for h in _after_commit[event]]
