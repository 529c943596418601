"""Ticket statuses and the legal transitions between them (DOMAIN.md §3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Waiting on customer")
    PENDING_INTERNAL = "pending_internal", _("Waiting on internal team")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Action(models.TextChoices):
    OPEN = "open", _("Open")
    WAIT_CUSTOMER = "wait_customer", _("Wait for customer")
    WAIT_INTERNAL = "wait_internal", _("Wait for internal team")
    RESOLVE = "resolve", _("Resolve")
    CLOSE = "close", _("Close")
    REOPEN = "reopen", _("Reopen")
    # Only through tickets.services.ticket_merge, which names the ticket it goes into.
    MERGE = "merge", _("Merge into another ticket")


# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    Action.OPEN: (
        frozenset({Status.NEW, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL}),
        Status.OPEN,
    ),
    Action.WAIT_CUSTOMER: (
        frozenset({Status.OPEN, Status.PENDING_INTERNAL}),
        Status.PENDING_CUSTOMER,
    ),
    Action.WAIT_INTERNAL: (
        frozenset({Status.OPEN, Status.PENDING_CUSTOMER}),
        Status.PENDING_INTERNAL,
    ),
    Action.RESOLVE: (
        frozenset({Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL}),
        Status.RESOLVED,
    ),
    # pending_customer -> closed is the 7-day auto-close of an unanswered ticket.
    Action.CLOSE: (frozenset({Status.RESOLVED, Status.PENDING_CUSTOMER}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.RESOLVED}), Status.OPEN),
    # A duplicate closes as merged into another ticket of the same customer (Ticket.merged_into).
    Action.MERGE: (
        frozenset(
            {
                Status.NEW,
                Status.OPEN,
                Status.PENDING_CUSTOMER,
                Status.PENDING_INTERNAL,
                Status.RESOLVED,
            }
        ),
        Status.CLOSED,
    ),
}
# Actions that need more than a note (a merge names its target ticket): never offered as a status
# button nor taken by the transition API; their own service applies them.
SERVICE_ONLY_ACTIONS = frozenset({Action.MERGE})
STAFF_ACTIONS = tuple(action for action in Action if action not in SERVICE_ONLY_ACTIONS)

# A tuple (fixed order) because the queue's partial indexes are built from it: a set's
# order changes between processes and would make Django see a new index every time.
ACTIVE_STATUS_LIST = (
    Status.NEW.value,
    Status.OPEN.value,
    Status.PENDING_CUSTOMER.value,
    Status.PENDING_INTERNAL.value,
)
ACTIVE_STATUSES = frozenset(ACTIVE_STATUS_LIST)


def target_status(*, current: str, action: str) -> str | None:
    """The status `action` leads to from `current`, or None if it is not allowed."""
    sources, target = TRANSITIONS.get(action, (frozenset(), None))
    return target if current in sources else None


def available_actions(current: str) -> list[str]:
    return [
        action
        for action, (sources, _) in TRANSITIONS.items()
        if current in sources and action not in SERVICE_ONLY_ACTIONS
    ]


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Channel(models.TextChoices):
    """Where the customer raised the ticket (the API's `channel`)."""

    API = "api", _("Shop backend (API)")
    WEB = "web", _("Web")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("Email")
    IM = "im", _("Instant messaging")


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
