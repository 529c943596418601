"""Writes to a shop's rules (each edit of what a rule says is a new version) and the preview,
which only reads."""

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError
from automation import spec
from automation.facts import Facts, compile_conditions, compiled_match, with_message_facts
from automation.models import Event, Rule, RuleVersion
from disputes.models import Compensation
from tickets.models import Message, Ticket, TicketEvent

# What makes a new version (enabling, disabling and moving a rule do not change what it says).
DEFINITION = ("name", "event", "after_field", "after_hours", "conditions", "actions")
PREVIEW_MAX_DAYS = 90
PREVIEW_MAX_TICKETS = 5000
PREVIEW_EXAMPLES = 20


def _version_write(rule: Rule, *, user) -> RuleVersion:
    return RuleVersion.objects.create(
        rule=rule,
        version=rule.version,
        created_by=user if user is not None and user.is_authenticated else None,
        **{field: getattr(rule, field) for field in DEFINITION},
    )


@transaction.atomic
def rule_create(*, shop, data: dict, user=None) -> Rule:
    cleaned = spec.rule_clean(data, shop=shop)
    rule = Rule.objects.create(shop=shop, version=1, **cleaned)
    _version_write(rule, user=user)
    return rule


@transaction.atomic
def rule_update(*, rule: Rule, data: dict, user=None) -> Rule:
    """PATCH: what is given replaces; a change to what the rule says is a new version (time
    rules start sweeping afresh for it)."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk, deleted_at__isnull=True)
    cleaned = spec.rule_clean(data, shop=rule.shop, partial_of=rule)
    changed = any(getattr(rule, field) != cleaned[field] for field in DEFINITION)
    for field, value in cleaned.items():
        setattr(rule, field, value)
    if changed:
        rule.version += 1
        rule.swept_until = None
    rule.save()
    if changed:
        _version_write(rule, user=user)
    return rule


@transaction.atomic
def rule_delete(*, rule: Rule) -> None:
    """Marked deleted and disabled: its firings and the timeline keep naming it."""
    now = timezone.now()
    Rule.objects.filter(pk=rule.pk).update(enabled=False, deleted_at=now, updated_at=now)


def rule_public(rule: Rule) -> dict:
    """The API's body of a rule (API.md "Automation rules")."""
    return {
        "id": rule.pk,
        "name": rule.name,
        "enabled": rule.enabled,
        "position": rule.position,
        "event": rule.event,
        "after": rule.after,
        "conditions": rule.conditions,
        "actions": rule.actions,
        "version": rule.version,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


# --- the rules shipped with the product (disabled) ----------------------------------------------

DEFAULT_RULES = [
    {
        "key": "spoiled_food",
        "name": "食品变质：紧急并通知主管",
        "event": Event.TICKET_CREATED,
        "conditions": {"all": [{"field": "dispute_type", "op": "eq", "value": "spoiled_food"}]},
        "actions": [
            {"type": "set_priority", "value": "urgent"},
            {"type": "notify", "value": "supervisors"},
        ],
    },
    {
        "key": "complaint_words",
        "name": "顾客提到投诉/12315/曝光：打标签并通知主管",
        "event": Event.MESSAGE_RECEIVED,
        "conditions": {
            "all": [{"field": "message.body", "op": "contains", "value": ["投诉", "12315", "曝光"]}]
        },
        "actions": [
            {"type": "add_tag", "value": "投诉风险"},
            {"type": "notify", "value": "supervisors"},
        ],
    },
    {
        "key": "no_reply_48h",
        "name": "48 小时未回复顾客：提醒处理人",
        "event": Event.TIME,
        "after": {"field": "updated_at", "hours": 48},
        "conditions": {
            "all": [
                {"field": "status", "op": "in", "value": ["new", "open", "pending_internal"]},
                {"field": "awaiting_reply", "op": "eq", "value": True},
            ]
        },
        "actions": [{"type": "notify", "value": "assignee"}],
    },
]


@transaction.atomic
def rules_defaults_ensure(*, shop) -> list[Rule]:
    """The seeds' rules, disabled, the first time a shop's rules are looked at (a shop that ever
    had a rule, even one deleted since, gets none again)."""
    if Rule.objects.filter(shop=shop).exists():
        return []
    made = []
    for position, default in enumerate(DEFAULT_RULES, start=1):
        data = {k: v for k, v in default.items() if k != "key"}
        rule = rule_create(shop=shop, data={**data, "enabled": False, "position": position})
        Rule.objects.filter(pk=rule.pk).update(default_key=default["key"])
        made.append(rule)
    return made


# --- the preview: what a rule would have done, changing nothing ------------------------------


def _preview_days(days) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= PREVIEW_MAX_DAYS:
        raise ApplicationError(
            "validation_error",
            _("The request has invalid fields."),
            fields={
                "days": _("A whole number of days from 1 to %(max)s.") % {"max": PREVIEW_MAX_DAYS}
            },
        )
    return days


# A ticket's automatic assignment is written with it: its event falls within this of the creation.
CREATION_MOMENT = dt.timedelta(seconds=1)


def rule_preview(*, shop, definition: dict, days: int = 30, now: dt.datetime | None = None) -> dict:
    """Which of the shop's tickets of the last `days` days the rule (as `definition`, cleaned by
    spec.rule_clean) would have matched, newest first, and what it would have done. Reads only.

    Per event: ticket.created reads every ticket as it is now; ticket.updated the tickets whose
    priority, tags or assignee changed (as they are now); message.received
    the tickets with a customer message (conditions on message.body read the latest one);
    compensation.decided the tickets with a decided compensation (the latest); sla.warning the
    tickets that had an SLA warning; a time rule the tickets whose mark has passed."""
    days = _preview_days(days)
    now = now or timezone.now()
    event = definition["event"]
    tickets = Ticket.objects.filter(shop=shop, created_at__gte=now - dt.timedelta(days=days))
    if event == Event.MESSAGE_RECEIVED:
        tickets = tickets.filter(
            Exists(
                Message.objects.filter(
                    ticket=OuterRef("pk"), author_kind=Message.Author.CUSTOMER, internal=False
                )
            )
        )
    elif event == Event.SLA_WARNING:
        tickets = tickets.filter(
            Exists(
                TicketEvent.objects.filter(
                    ticket=OuterRef("pk"), kind=TicketEvent.Kind.SLA, data__what="warning"
                )
            )
        )
    elif event == Event.TICKET_UPDATED:
        # Only tickets whose priority, tags or assignee changed can have fired it. A new ticket's
        # automatic assignment is part of its creation (written with it), not an update.
        tickets = tickets.filter(
            Exists(
                TicketEvent.objects.filter(ticket=OuterRef("pk")).filter(
                    Q(kind__in=[TicketEvent.Kind.PRIORITY_CHANGED, TicketEvent.Kind.TAGS_CHANGED])
                    | Q(
                        kind=TicketEvent.Kind.ASSIGNED,
                        created_at__gt=OuterRef("created_at") + CREATION_MOMENT,
                    )
                )
            )
        )
    elif event == Event.TIME:
        field, hours = definition["after_field"], definition["after_hours"]
        tickets = tickets.filter(**{f"{field}__lte": now - dt.timedelta(hours=hours)})
    decided = {}
    if event == Event.COMPENSATION_DECIDED:
        rows = Compensation.objects.filter(
            ticket__shop=shop,
            ticket__created_at__gte=now - dt.timedelta(days=days),
            status__in=["approved", "rejected", "executing", "executed", "failed"],
        ).order_by("ticket_id", "-id")
        for row in rows:
            decided.setdefault(row.ticket_id, row)
        tickets = tickets.filter(pk__in=list(decided))
    compiled = compile_conditions(definition["conditions"])
    rows = (
        with_message_facts(tickets, compiled)
        .select_related("order", "customer", "dispute_type", "assignee")
        .prefetch_related("tags", "order__items")
        .order_by("-created_at", "-id")[:PREVIEW_MAX_TICKETS]
    )
    matched = []
    for ticket in rows:
        compensation = decided.get(ticket.pk)
        if compensation is not None and compensation.status != "rejected":
            compensation.status = "approved"  # executing / executed were approved first
        if compiled_match(compiled, Facts(ticket, compensation=compensation)):
            matched.append(ticket.number)
    titles = spec.reply_titles(definition["actions"])
    return {
        "matched": len(matched),
        "examples": matched[:PREVIEW_EXAMPLES],
        "actions": [spec.action_words(a, titles=titles) for a in definition["actions"]],
        "days": days,
    }
