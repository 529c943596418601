"""Macros: a reply template (ReplyTemplate) that can also act when its reply is sent — change the
status, set the priority, add a tag, assign the ticket to the agent. The seeds' 话术 are the global
defaults; a shop writes its own on its settings page (tickets.views_macros).

Each action goes through the ticket's own service (its own transaction, on the timeline with who
and when), after the reply is sent: one that cannot apply (resolving a ticket already closed) is
reported to the agent and never takes the reply back.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError
from tickets import services
from tickets.models import ReplyTemplate
from tickets.states import STAFF_ACTIONS, Action, Priority

# The actions a macro can take, in the order they run.
SET_STATUS, SET_PRIORITY, ADD_TAG, ASSIGN_ME = "set_status", "set_priority", "add_tag", "assign_me"
ACTION_TYPES = (ASSIGN_ME, SET_PRIORITY, ADD_TAG, SET_STATUS)


def macro_actions_clean(actions) -> list[dict]:
    """A macro's actions as stored, or ValueError naming what is wrong (in the reader's language).
    At most one of each type; values checked as the single-ticket services check them."""
    if not isinstance(actions, list):
        raise ValueError(_("The actions are a list."))
    cleaned: dict[str, dict] = {}
    for action in actions:
        kind = action.get("type") if isinstance(action, dict) else None
        value = action.get("value") if isinstance(action, dict) else None
        if kind not in ACTION_TYPES:
            raise ValueError(_("Unknown macro action."))
        if kind == SET_STATUS and value not in STAFF_ACTIONS:
            raise ValueError(_("Choose a status change."))
        if kind == SET_PRIORITY and value not in Priority.values:
            raise ValueError(_("Choose a priority."))
        if kind == ADD_TAG:
            try:
                value = services.tag_name_clean(value)
            except ApplicationError as exc:
                raise ValueError(exc.fields["tags"]) from None
        cleaned[kind] = {"type": kind, "value": value} if kind != ASSIGN_ME else {"type": kind}
    return [cleaned[kind] for kind in ACTION_TYPES if kind in cleaned]


def macro_action_words(action: dict) -> str:
    """One action as the agent reads it, e.g. "标记为已解决"."""
    kind, value = action["type"], action.get("value")
    if kind == SET_STATUS:
        return str(Action(value).label)
    if kind == SET_PRIORITY:
        return _("priority: %(priority)s") % {"priority": Priority(value).label}
    if kind == ADD_TAG:
        return _("tag “%(tag)s”") % {"tag": value}
    return _("assign to me")


@dataclass(frozen=True)
class MacroResult:
    done: list[str]
    failed: list[str]


def macro_apply(*, ticket, template: ReplyTemplate, actor: services.Actor) -> MacroResult:
    """Run the macro's actions on the ticket, each on its own; what could not apply is reported."""
    done, failed = [], []
    for action in template.actions or []:
        words = macro_action_words(action)
        try:
            _run(ticket=ticket, action=action, actor=actor)
        except ApplicationError as exc:
            failed.append(f"{words}: {exc.message}")
        else:
            done.append(words)
    return MacroResult(done, failed)


def _run(*, ticket, action: dict, actor: services.Actor) -> None:
    kind, value = action["type"], action.get("value")
    if kind == ASSIGN_ME:
        services.ticket_assign(ticket=ticket, assignee=actor.user, actor=actor)
    elif kind == SET_PRIORITY:
        services.ticket_priority_set(ticket=ticket, priority=value, actor=actor)
    elif kind == ADD_TAG:
        services.ticket_tag_add(ticket=ticket, name=value, actor=actor)
    elif kind == SET_STATUS:
        services.ticket_transition(ticket=ticket, action=value, actor=actor)


# --- the shop's own macros (its settings page) ---------------------------------------------------


@transaction.atomic
def macro_save(
    *, shop, fields: dict, actions: list, template: ReplyTemplate | None = None
) -> ReplyTemplate:
    """Create or change one of the shop's macros (never a global default: copy it first)."""
    if template is not None and template.shop_id != shop.pk:
        raise ApplicationError("not_found", _("No such macro."), status_code=404)
    template = template or ReplyTemplate(shop=shop)
    for name, value in fields.items():
        setattr(template, name, value)
    template.actions = macro_actions_clean(actions)
    template.save()
    return template


def macro_copy(*, shop, template: ReplyTemplate) -> ReplyTemplate:
    """A default (global) template as the shop's own macro, to change as it likes."""
    return macro_save(
        shop=shop,
        fields={
            "category": template.category,
            "title": template.title_in_reader_language,
            "body": template.body,
            "language": template.language,
            "position": template.position,
        },
        actions=template.actions or [],
    )


def macro_delete(*, shop, template: ReplyTemplate) -> None:
    if template.shop_id != shop.pk:
        raise ApplicationError("not_found", _("No such macro."), status_code=404)
    template.delete()
