"""What a rule may say, checked in one place (the API's serializer, the settings page and the
preview all call `rule_clean`): the events, the fields a condition reads, the operators each
field's kind allows, and the actions. A bad rule is an ApplicationError whose `fields` name the
place, e.g. ``conditions.all[0].op`` or ``actions[1].value``, in the reader's language."""

import re
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.exceptions import ApplicationError
from automation.models import AfterField, Event
from shops.models import Membership
from tickets.models import DisputeCategory, DisputeType, ReplyTemplate
from tickets.selectors import reply_template_of_shop
from tickets.services import MESSAGE_MAX_LENGTH, tag_name_clean
from tickets.states import STAFF_ACTIONS, Action, Priority, Status

TEXT, CHOICE, MONEY, BOOL, LIST = "text", "choice", "money", "bool", "list"

# The operators each kind of field allows.
OPS_BY_KIND = {
    TEXT: ("eq", "ne", "in", "not_in", "contains"),
    CHOICE: ("eq", "ne", "in", "not_in"),
    MONEY: ("eq", "ne", "gte", "lte"),
    BOOL: ("eq", "ne"),
    LIST: ("contains", "in", "not_in"),
}
OPS = ("eq", "ne", "in", "not_in", "gte", "lte", "contains")
OP_LABELS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "gte": gettext_lazy("is at least"),
    "lte": gettext_lazy("is at most"),
    "contains": gettext_lazy("contains"),
}

# field -> (kind, label). The values a field reads come from automation.facts.
FIELDS = {
    "dispute_type": (CHOICE, gettext_lazy("Dispute type")),
    "dispute_category": (CHOICE, gettext_lazy("Dispute category")),
    "status": (CHOICE, gettext_lazy("Status")),
    "priority": (CHOICE, gettext_lazy("Priority")),
    "channel": (TEXT, gettext_lazy("Channel")),
    "assignee": (TEXT, gettext_lazy("Assignee (username, empty when nobody)")),
    "description": (TEXT, gettext_lazy("Description")),
    "requested_resolution": (TEXT, gettext_lazy("Requested resolution")),
    "tags": (LIST, gettext_lazy("Tags")),
    "awaiting_reply": (BOOL, gettext_lazy("Waiting for our reply")),
    "order.amount": (MONEY, gettext_lazy("Order amount")),
    "order.courier": (TEXT, gettext_lazy("Courier")),
    "order.order_no": (TEXT, gettext_lazy("Order number")),
    "order.skus": (LIST, gettext_lazy("Order SKUs")),
    "order.perishable": (BOOL, gettext_lazy("Order has perishable items")),
    "customer.external_id": (TEXT, gettext_lazy("Customer ID")),
    "customer.name": (TEXT, gettext_lazy("Customer name")),
    "message.body": (TEXT, gettext_lazy("Customer's message")),
    "compensation.status": (CHOICE, gettext_lazy("Compensation decision")),
    "compensation.type": (TEXT, gettext_lazy("Compensation type")),
    "compensation.amount": (MONEY, gettext_lazy("Compensation amount")),
}

SET_PRIORITY, ASSIGN, ADD_TAG, REMOVE_TAG = "set_priority", "assign", "add_tag", "remove_tag"
TRANSITION, REPLY, INTERNAL_NOTE, NOTIFY = "transition", "reply", "internal_note", "notify"
ACTION_LABELS = {
    SET_PRIORITY: gettext_lazy("Set the priority"),
    ASSIGN: gettext_lazy("Assign to"),
    ADD_TAG: gettext_lazy("Add the tag"),
    REMOVE_TAG: gettext_lazy("Remove the tag"),
    TRANSITION: gettext_lazy("Change the status"),
    REPLY: gettext_lazy("Reply to the customer with the template"),
    INTERNAL_NOTE: gettext_lazy("Write an internal note"),
    NOTIFY: gettext_lazy("Notify"),
}
ACTIONS = tuple(ACTION_LABELS)
NOTIFY_TARGETS = {
    "supervisors": gettext_lazy("the shop's supervisors"),
    "assignee": gettext_lazy("the assignee"),
}
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
MAX_AFTER_HOURS = 24 * 90
NAME_MAX_LENGTH = 100
MAX_VALUE_LENGTH = 200
# Several values typed in one box (the settings page): split on commas, 、 and slashes.
VALUE_SEPARATORS = re.compile(r"\s*[,，、/]\s*")


def choices_for(field: str, *, shop) -> list[tuple[str, str]]:
    """The values a choice field can take, as (value, words)."""
    if field == "dispute_type":
        types = DisputeType.objects.filter(
            Q(shop=shop) | Q(shop__isnull=True), active=True
        ).order_by("shop_id", "code")
        return [(t.code, t.name) for t in types]
    if field == "dispute_category":
        return list(DisputeCategory.choices)
    if field == "status":
        return list(Status.choices)
    if field == "priority":
        return list(Priority.choices)
    if field == "compensation.status":
        return [("approved", _("Approved")), ("rejected", _("Rejected"))]
    return []


class _Errors:
    def __init__(self):
        self.fields: dict[str, str] = {}

    def add(self, key: str, message) -> None:
        self.fields.setdefault(key, str(message))


def _money(value) -> Decimal | None:
    if not isinstance(value, str):  # money is a decimal string, never a JSON number
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount.as_tuple().exponent < -2 or abs(amount) >= 10**10:
        return None
    return amount


def _text_value(value, errors: _Errors, key: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.add(key, _("Give a piece of text."))
        return None
    if len(value) > MAX_VALUE_LENGTH:
        errors.add(key, _("At most %(limit)s characters.") % {"limit": MAX_VALUE_LENGTH})
        return None
    return value.strip()


def _condition_clean(cond, *, shop, errors: _Errors, key: str) -> dict | None:
    if not isinstance(cond, dict):
        errors.add(key, _("A condition is {field, op, value}."))
        return None
    unknown = set(cond) - {"field", "op", "value"}
    if unknown:
        errors.add(key, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
    field, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    if field not in FIELDS:
        errors.add(f"{key}.field", _("Choose a field."))
        return None
    kind = FIELDS[field][0]
    if op not in OPS:
        errors.add(f"{key}.op", _("Choose an operator."))
        return None
    if op not in OPS_BY_KIND[kind]:
        errors.add(
            f"{key}.op",
            _("“%(op)s” does not apply to %(field)s.")
            % {"op": OP_LABELS[op], "field": FIELDS[field][1]},
        )
        return None
    vkey = f"{key}.value"
    # The known values of a choice field, read once for all of the condition's values.
    allowed = {code for code, _words in choices_for(field, shop=shop)} if kind == CHOICE else None
    many = op in ("in", "not_in") or (op == "contains" and isinstance(value, list))
    if many:
        if isinstance(value, str):
            value = [v for v in VALUE_SEPARATORS.split(value) if v]
        if not isinstance(value, list) or not value or len(value) > 50:
            errors.add(vkey, _("Give one or more values (at most 50)."))
            return None
        cleaned = [_scalar(kind, v, allowed=allowed, errors=errors, key=vkey) for v in value]
        if any(v is None for v in cleaned):
            return None
        return {"field": field, "op": op, "value": cleaned}
    cleaned = _scalar(kind, value, allowed=allowed, errors=errors, key=vkey)
    if cleaned is None:
        return None
    return {"field": field, "op": op, "value": cleaned}


def _scalar(kind: str, value, *, allowed: set | None, errors: _Errors, key: str):
    if kind == MONEY:
        amount = _money(value)
        if amount is None:
            errors.add(key, _("Give an amount of money such as 100.00."))
            return None
        return f"{amount:.2f}"
    if kind == BOOL:
        if isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            errors.add(key, _("Give true or false."))
            return None
        return value
    text = _text_value(value, errors, key)
    if text is None:
        return None
    if kind == CHOICE and text not in allowed:
        errors.add(key, _("“%(value)s” is not a known value here.") % {"value": text})
        return None
    return text


def _conditions_clean(conditions, *, shop, errors: _Errors) -> dict:
    if conditions in (None, {}):
        return {}
    if not isinstance(conditions, dict) or set(conditions) - {"all", "any"}:
        errors.add("conditions", _('Conditions are {"all": [...]} and/or {"any": [...]}.'))
        return {}
    cleaned = {}
    for group in ("all", "any"):
        items = conditions.get(group)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.add(f"conditions.{group}", _("A list of conditions."))
            continue
        if len(items) > MAX_CONDITIONS:
            errors.add(
                f"conditions.{group}", _("At most %(n)s conditions.") % {"n": MAX_CONDITIONS}
            )
            continue
        rows = [
            _condition_clean(c, shop=shop, errors=errors, key=f"conditions.{group}[{i}]")
            for i, c in enumerate(items)
        ]
        if rows:
            cleaned[group] = rows
    return cleaned


def _action_clean(action, *, shop, errors: _Errors, key: str) -> dict | None:
    if not isinstance(action, dict):
        errors.add(key, _("An action is {type, value}."))
        return None
    kind, value = action.get("type"), action.get("value")
    vkey = f"{key}.value"
    if kind in ("compensate", "compensation", "grant_compensation", "refund"):
        errors.add(f"{key}.type", _("Rules never grant compensation: approval stays with people."))
        return None
    if kind not in ACTIONS:
        errors.add(f"{key}.type", _("Choose an action."))
        return None
    if set(action) - {"type", "value"}:
        errors.add(key, _("An action is {type, value}."))
        return None
    if kind == SET_PRIORITY:
        if value not in Priority.values:
            errors.add(vkey, _("Choose a priority."))
            return None
    elif kind == ASSIGN:
        if not isinstance(value, str) or not value:
            errors.add(vkey, _("Give a username or “auto”."))
            return None
        if (
            value != "auto"
            and not Membership.objects.filter(
                shop=shop, user__username=value, user__is_active=True
            ).exists()
        ):
            errors.add(vkey, _("%(name)s does not work for this shop.") % {"name": value})
            return None
    elif kind in (ADD_TAG, REMOVE_TAG):
        try:
            value = tag_name_clean(value)
        except ApplicationError as exc:
            errors.add(vkey, exc.fields["tags"])
            return None
    elif kind == TRANSITION:
        if value not in STAFF_ACTIONS:
            errors.add(vkey, _("Choose a status change."))
            return None
    elif kind == REPLY:
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            errors.add(vkey, _("Choose a reply template."))
            return None
        if reply_template_of_shop(shop.pk, value) is None:
            errors.add(vkey, _("No such reply template in this shop."))
            return None
    elif kind == INTERNAL_NOTE:
        if not isinstance(value, str) or not value.strip():
            errors.add(vkey, _("Write the note."))
            return None
        if len(value) > MESSAGE_MAX_LENGTH:
            errors.add(vkey, _("At most %(limit)s characters.") % {"limit": MESSAGE_MAX_LENGTH})
            return None
        value = value.strip()
    elif kind == NOTIFY and value not in NOTIFY_TARGETS:
        errors.add(vkey, _("Choose whom to notify: supervisors or assignee."))
        return None
    return {"type": kind, "value": value}


def rule_clean(data: dict, *, shop, partial_of=None) -> dict:
    """The rule's fields as stored, or ApplicationError (400) with every problem by field.
    `partial_of`: the rule a PATCH changes (what is not given is kept)."""
    errors = _Errors()
    if partial_of is not None:
        base = {
            "name": partial_of.name,
            "enabled": partial_of.enabled,
            "position": partial_of.position,
            "event": partial_of.event,
            "after": partial_of.after,
            "conditions": partial_of.conditions,
            "actions": partial_of.actions,
        }
        if "event" in data and data["event"] != "time" and "after" not in data:
            base["after"] = None
        data = {**base, **data}
    unknown = set(data) - {"name", "enabled", "position", "event", "after", "conditions", "actions"}
    for key in sorted(unknown):
        errors.add(key, _("Unknown field."))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.add("name", _("Give the rule a name."))
    elif len(name.strip()) > NAME_MAX_LENGTH:
        errors.add("name", _("At most %(limit)s characters.") % {"limit": NAME_MAX_LENGTH})
    enabled = data.get("enabled", False)
    if not isinstance(enabled, bool):
        errors.add("enabled", _("Give true or false."))
    position = data.get("position", 1)
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= 10000:
        errors.add("position", _("A whole number from 1 to 10000."))
    event = data.get("event")
    after_field, after_hours = "", None
    if event not in Event.values:
        errors.add("event", _("Choose when the rule runs."))
    elif event == Event.TIME:
        after = data.get("after")
        if not isinstance(after, dict):
            errors.add("after", _("A time rule says after what and how many hours."))
        else:
            if set(after) - {"field", "hours"}:
                errors.add("after", _("Only field and hours."))
            after_field = after.get("field")
            if after_field not in AfterField.values:
                errors.add("after.field", _("Choose created_at, updated_at or status_since."))
            after_hours = after.get("hours")
            if (
                isinstance(after_hours, bool)
                or not isinstance(after_hours, int)
                or not 1 <= after_hours <= MAX_AFTER_HOURS
            ):
                errors.add(
                    "after.hours",
                    _("A whole number of hours from 1 to %(max)s.") % {"max": MAX_AFTER_HOURS},
                )
    elif data.get("after") not in (None, {}):
        errors.add("after", _("Only time rules have “after”."))
    conditions = _conditions_clean(data.get("conditions"), shop=shop, errors=errors)
    actions = data.get("actions")
    cleaned_actions = []
    if not isinstance(actions, list) or not actions:
        errors.add("actions", _("Give at least one action."))
    elif len(actions) > MAX_ACTIONS:
        errors.add("actions", _("At most %(n)s actions.") % {"n": MAX_ACTIONS})
    else:
        cleaned_actions = [
            _action_clean(a, shop=shop, errors=errors, key=f"actions[{i}]")
            for i, a in enumerate(actions)
        ]
    if errors.fields:
        raise ApplicationError(
            "validation_error", _("The rule has invalid fields."), fields=errors.fields
        )
    return {
        "name": name.strip(),
        "enabled": enabled,
        "position": position,
        "event": event,
        "after_field": after_field or "",
        "after_hours": after_hours,
        "conditions": conditions,
        "actions": cleaned_actions,
    }


def condition_words(cond: dict, *, shop) -> str:
    """One condition as the admin reads it: "Priority is one of: High / Urgent"."""
    field, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    label = FIELDS[field][1] if field in FIELDS else field
    words = dict(choices_for(field, shop=shop)) if field in FIELDS else {}
    values = value if isinstance(value, list) else [value]
    shown = [
        (_("yes") if v else _("no")) if isinstance(v, bool) else words.get(str(v), v)
        for v in values
    ]
    return f"{label} {OP_LABELS.get(op, op)}: {' / '.join(str(v) for v in shown)}"


def reply_titles(actions) -> dict[int, str]:
    """The titles of the reply templates `actions` name, by id: one query for a list of rules'
    actions (action_words' `titles`)."""
    ids = {a.get("value") for a in actions if a.get("type") == REPLY}
    ids = {pk for pk in ids if isinstance(pk, int)}
    if not ids:
        return {}
    return dict(ReplyTemplate.objects.filter(pk__in=ids).values_list("pk", "title"))


def action_words(action: dict, *, titles: dict[int, str] | None = None) -> str:
    """One action as the admin reads it: "Set the priority: Urgent". A reply names its template:
    by the title a firing recorded when it replied (the timeline), else from `titles`
    (reply_titles), else read here."""
    kind, value = action["type"], action.get("value")
    label = ACTION_LABELS.get(kind, kind)
    if kind == SET_PRIORITY and value in Priority.values:
        value = Priority(value).label
    elif kind == TRANSITION and value in Action.values:
        value = Action(value).label
    elif kind == NOTIFY:
        value = NOTIFY_TARGETS.get(value, value)
    elif kind == REPLY:
        title = action.get("title")
        if title is None:
            title = (titles if titles is not None else reply_titles([action])).get(value)
        value = ReplyTemplate(title=title).title_in_reader_language if title else f"#{value}"
    elif kind == ASSIGN and value == "auto":
        value = _("automatic assignment")
    return f"{label}: {value}"
