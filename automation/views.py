"""The shop's automation settings page: the rules in order (enable, move, delete), and the
rule form — a builder of condition and action rows, no JSON to type — with its preview and the
rule's recent firings."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.auth import login_required
from aftersales.exceptions import ApplicationError
from automation import services, spec
from automation.models import AfterField, Event, Rule
from automation.selectors import rule_firings, shop_rule, shop_rules
from shops.selectors import admin_shop, shop_staff
from tickets.selectors import reply_templates_of_shop
from tickets.states import STAFF_ACTIONS, Action, Priority


@login_required
def rule_list(request, code):
    shop = admin_shop(user=request.user, code=code)
    services.rules_defaults_ensure(shop=shop)
    rules = shop_rules(shop=shop)
    titles = spec.reply_titles([a for rule in rules for a in rule.actions])
    for rule in rules:
        rule.action_words = [spec.action_words(a, titles=titles) for a in rule.actions]
    return render(
        request,
        "automation/rules.html",
        {"shop": shop, "rules": rules, "events": dict(Event.choices)},
    )


@login_required
@require_POST
def rule_toggle(request, code, rule_id):
    shop = admin_shop(user=request.user, code=code)
    rule = shop_rule(shop=shop, rule_id=rule_id)
    try:
        services.rule_update(rule=rule, data={"enabled": not rule.enabled}, user=request.user)
    except ApplicationError as exc:  # e.g. its assignee left the shop: fix the rule first
        messages.error(request, "; ".join([exc.message, *map(str, (exc.fields or {}).values())]))
        return redirect("automation:rule-edit", code=shop.code, rule_id=rule.pk)
    if rule.enabled:
        messages.success(request, _("Rule “%(name)s” disabled.") % {"name": rule.name})
    else:
        messages.success(request, _("Rule “%(name)s” enabled.") % {"name": rule.name})
    return redirect("automation:rules", code=shop.code)


@login_required
@require_POST
def rule_move(request, code, rule_id):
    """Up or down one place: positions renumbered 1..n in the new order."""
    shop = admin_shop(user=request.user, code=code)
    rule = shop_rule(shop=shop, rule_id=rule_id)
    rules = shop_rules(shop=shop)
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        for position, row in enumerate(rules, start=1):
            if row.position != position:  # the order only: not a new version, nothing re-checked
                Rule.objects.filter(pk=row.pk).update(position=position, updated_at=timezone.now())
    return redirect("automation:rules", code=shop.code)


@login_required
@require_POST
def rule_remove(request, code, rule_id):
    shop = admin_shop(user=request.user, code=code)
    rule = shop_rule(shop=shop, rule_id=rule_id)
    services.rule_delete(rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("automation:rules", code=shop.code)


def _form_value(op: str, text: str):
    """What one value box means: several values for in / not_in, and for contains when it
    holds separators (投诉/12315/曝光)."""
    text = (text or "").strip()
    parts = [p for p in spec.VALUE_SEPARATORS.split(text) if p]
    if op in ("in", "not_in") or (op == "contains" and len(parts) > 1):
        return parts
    return text


def _form_to_data(post) -> dict:
    op_list = post.getlist("cond_op")
    conditions = [
        {"field": field, "op": op, "value": _form_value(op, value)}
        for field, op, value in zip(
            post.getlist("cond_field"), op_list, post.getlist("cond_value"), strict=False
        )
        if field or value
    ]
    actions = [
        {"type": kind, "value": value.strip()}
        for kind, value in zip(
            post.getlist("action_type"), post.getlist("action_value"), strict=False
        )
        if kind or value.strip()
    ]
    position = post.get("position", "").strip()
    data = {
        "name": post.get("name", ""),
        "enabled": post.get("enabled") == "on",
        "position": int(position) if position.isascii() and position.isdigit() else position,
        "event": post.get("event", ""),
        "conditions": {
            post.get("match", "all") if post.get("match") == "any" else "all": conditions
        }
        if conditions
        else {},
        "actions": actions,
    }
    if data["event"] == Event.TIME:
        hours = post.get("after_hours", "").strip()
        data["after"] = {
            "field": post.get("after_field", ""),
            "hours": int(hours) if hours.isascii() and hours.isdigit() else hours,
        }
    return data


def _rows_from(data: dict) -> tuple[str, list[dict], list[dict]]:
    conditions = data.get("conditions") or {}
    match = "any" if conditions.get("any") and not conditions.get("all") else "all"
    rows = []
    for cond in conditions.get(match, []):
        value = cond.get("value")
        if isinstance(value, list):
            value = "/".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        rows.append({"field": cond.get("field"), "op": cond.get("op"), "value": value})
    actions = [
        {"type": a.get("type"), "value": "" if a.get("value") is None else str(a.get("value"))}
        for a in data.get("actions") or []
    ]
    return match, rows, actions


def _builder_options(shop) -> dict:
    """Everything the builder's selects offer, for the page's script (json_script)."""
    fields = {
        name: {
            "label": str(label),
            "kind": kind,
            "ops": list(spec.OPS_BY_KIND[kind]),
            "choices": [[c, str(w)] for c, w in spec.choices_for(name, shop=shop)]
            or ([["true", _("yes")], ["false", _("no")]] if kind == spec.BOOL else []),
        }
        for name, (kind, label) in spec.FIELDS.items()
    }
    usernames = [member.username for member in shop_staff(shop.pk)]
    templates = reply_templates_of_shop(shop.pk)
    actions = {
        spec.SET_PRIORITY: [[p, str(w)] for p, w in Priority.choices],
        spec.ASSIGN: [["auto", _("automatic assignment")]] + [[u, u] for u in usernames],
        spec.ADD_TAG: [],
        spec.REMOVE_TAG: [],
        spec.TRANSITION: [[a, str(Action(a).label)] for a in STAFF_ACTIONS],
        spec.REPLY: [[str(t.pk), t.title_in_reader_language] for t in templates],
        spec.INTERNAL_NOTE: [],
        spec.NOTIFY: [[k, str(w)] for k, w in spec.NOTIFY_TARGETS.items()],
    }
    return {
        "fields": fields,
        "ops": {op: str(label) for op, label in spec.OP_LABELS.items()},
        "actions": {
            k: {"label": str(spec.ACTION_LABELS[k]), "choices": v} for k, v in actions.items()
        },
    }


def _row_errors(errors: dict, prefix: str, count: int) -> list[str]:
    out = []
    for i in range(count):
        key = f"{prefix}[{i}]"
        out.append(
            " ".join(msg for k, msg in errors.items() if k == key or k.startswith(key + "."))
        )
    return out


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, code, rule_id=None):
    shop = admin_shop(user=request.user, code=code)
    rule = shop_rule(shop=shop, rule_id=rule_id) if rule_id is not None else None
    errors: dict = {}
    preview = None
    if rule is not None:
        data = services.rule_public(rule)
    else:
        data = {
            "name": "",
            "enabled": True,
            "position": len(shop_rules(shop=shop)) + 1,
            "event": Event.TICKET_CREATED,
            "conditions": {},
            "actions": [{"type": "", "value": ""}],
        }
    # The page edits one group of conditions ("all" or "any"); a rule given both through the API
    # keeps them as they are when saved here, instead of losing the one the page cannot show.
    stored = (rule.conditions or {}) if rule is not None else {}
    conditions_kept = bool(stored.get("all")) and bool(stored.get("any"))
    days = 30
    if request.method == "POST":
        data = _form_to_data(request.POST)
        if conditions_kept:
            data["conditions"] = stored
        try:
            if "preview" in request.POST:
                days_text = request.POST.get("days", "30").strip()
                days = int(days_text) if days_text.isdigit() else days_text
                definition = spec.rule_clean(data, shop=shop)
                preview = services.rule_preview(shop=shop, definition=definition, days=days)
            elif rule is None:
                rule = services.rule_create(shop=shop, data=data, user=request.user)
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
                return redirect("automation:rule-edit", code=shop.code, rule_id=rule.pk)
            else:
                rule = services.rule_update(rule=rule, data=data, user=request.user)
                messages.success(
                    request,
                    _("Rule “%(name)s” saved (version %(version)s).")
                    % {"name": rule.name, "version": rule.version},
                )
                return redirect("automation:rule-edit", code=shop.code, rule_id=rule.pk)
        except ApplicationError as exc:
            errors = exc.fields or {"non_field_errors": exc.message}
    match, conditions, actions = _rows_from(data)
    for row, message in zip(
        conditions, _row_errors(errors, f"conditions.{match}", len(conditions)), strict=False
    ):
        row["error"] = message
    for row, message in zip(actions, _row_errors(errors, "actions", len(actions)), strict=False):
        row["error"] = message
    after = data.get("after") or {}
    labels = {
        "name": _("Name"),
        "event": _("When"),
        "position": _("Position"),
        "days": _("Days"),
        "after": _("After"),
        "after.field": _("After"),
        "after.hours": _("Hours"),
        "actions": _("Then"),
        "conditions": _("If"),
    }
    return render(
        request,
        "automation/rule_edit.html",
        {
            "shop": shop,
            "rule": rule,
            "data": data,
            "match": match,
            "conditions": conditions,
            "actions": actions,
            "after_field": after.get("field", "updated_at"),
            "after_hours": after.get("hours", ""),
            "after_error": " ".join(m for k, m in errors.items() if k.startswith("after")),
            "events": Event.choices,
            "after_fields": AfterField.choices,
            "errors": errors,
            "error_list": [(key, labels.get(key, ""), msg) for key, msg in errors.items()],
            "builder": _builder_options(shop),
            "conditions_kept": conditions_kept,
            "kept_groups": [
                (title, [spec.condition_words(c, shop=shop) for c in stored[group]])
                for group, title in (
                    ("all", _("All of these hold:")),
                    ("any", _("and any of these holds:")),
                )
            ]
            if conditions_kept
            else [],
            "preview": preview,
            "days": days,
            "firings": rule_firings(rule=rule) if rule is not None else [],
            "version_count": rule.versions.count() if rule is not None else 0,
        },
        status=400 if errors else 200,
    )
