"""Rules acting on tickets: matching a domain event's ticket against the shop's enabled rules
in order, and running a rule's actions through the tickets' own services.

Safety (issue 15):
- **No self-trigger, bounded chains.** While a rule acts, a context variable holds the rules
  acting (outermost first). An event its own change raises (its priority change is a
  ticket.updated) never runs that rule again, and a chain of rules triggering rules stops at
  MAX_CHAIN_DEPTH.
- **A failing action stays alone.** Each action runs in its own savepoint: when it fails, its
  writes are undone, the failure is logged (timeline and RuleFiring) and the next action and
  the next rule still run; the write that raised the event is never rolled back.
- **Never money.** There is no action that proposes or grants compensation.
"""

import contextlib
import datetime as dt
import logging
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.exceptions import ApplicationError
from assignment.services import ticket_auto_assign
from automation import spec
from automation.facts import Facts, compile_conditions, compiled_match, conditions_match
from automation.models import Event, FiringState, Outcome, Rule, RuleFiring
from notifications.services import notification_send, shop_supervisors
from shops.config import shop_config
from sla.models import ContactPurpose
from sla.services.contact import contact_customer
from tickets import services as tickets
from tickets.models import Message, Ticket, TicketEvent
from tickets.reply_templates import (
    reply_template_fill,
    reply_template_values,
    unfilled_placeholders,
)
from tickets.selectors import reply_template_of_shop

logger = logging.getLogger(__name__)
User = get_user_model()

MAX_CHAIN_DEPTH = 3
_acting: ContextVar[tuple[int, ...]] = ContextVar("automation_acting", default=())


@contextlib.contextmanager
def _acting_as(rule_id: int):
    token = _acting.set((*_acting.get(), rule_id))
    try:
        yield
    finally:
        _acting.reset(token)


def rule_actor(*, rule_id: int, version: int, name: str) -> tickets.Actor:
    """Who acts when a rule does: the timeline names the rule and its version."""
    return tickets.Actor(label=f"rule:{rule_id}@{version} {name}"[:150], kind="system")


def enabled_rules(*, shop_id: int, event: str) -> list[Rule]:
    """The shop's enabled rules for the event, in order, each with `compiled` conditions. A rule's
    JSON is read and prepared once per change of the shop's configuration (shops.config: any rule
    written, enabled, disabled, moved or deleted), not on every ticket event."""
    return shop_config(shop_id, "rules", lambda: _enabled_rules_by_event(shop_id)).get(event, [])


def _enabled_rules_by_event(shop_id: int) -> dict[str, list[Rule]]:
    by_event: dict[str, list[Rule]] = {}
    for rule in Rule.objects.filter(
        shop_id=shop_id, enabled=True, deleted_at__isnull=True
    ).order_by("position", "id"):
        rule.compiled = compile_conditions(rule.conditions)
        by_event.setdefault(rule.event, []).append(rule)
    return by_event


def rules_run(
    *,
    event: str,
    ticket: Ticket,
    message: Message | None = None,
    compensation=None,
    now: dt.datetime | None = None,
) -> list[RuleFiring]:
    """The shop's enabled rules for `event`, in order, each acting on the ticket if its
    conditions hold; a rule sees what the rules before it did. Runs in the caller's transaction
    (each action in a savepoint)."""
    acting = _acting.get()
    if len(acting) >= MAX_CHAIN_DEPTH:
        logger.info("automation chain stopped at depth %d on ticket %s", len(acting), ticket.pk)
        return []
    rules = enabled_rules(shop_id=ticket.shop_id, event=event)
    if not rules:
        return []
    now = now or timezone.now()
    facts = Facts(ticket, message=message, compensation=compensation)
    fired = []
    for rule in rules:
        if rule.pk in acting:  # its own change: never again
            continue
        if not compiled_match(rule.compiled, facts):
            continue
        firing = RuleFiring(
            rule=rule,
            version=rule.version,
            ticket_id=ticket.pk,
            event=event,
            state=FiringState.CLAIMED,
            pending_actions=list(rule.actions),
        )
        firing_act(firing=firing, rule=rule, now=now)
        fired.append(firing)
        facts.refresh()
    if fired:
        # The caller's copy (what the API answers with) shows what the rules did: Facts holds
        # that very object and reloads it in place (if no later rule already did).
        facts.reload_if_stale()
    return fired


def firing_act(*, firing: RuleFiring, rule: Rule, now: dt.datetime) -> RuleFiring:
    """Run the firing's pending actions for `rule`'s version, record each result on the
    timeline (one automation event naming the rule and version) and save the firing: done, or
    pending until the deferred reply may be sent."""
    actor = rule_actor(rule_id=rule.pk, version=firing.version, name=rule.name)
    results, deferred, retry_at = [], [], None
    with _acting_as(rule.pk):
        for action in firing.pending_actions:
            result = {"type": action["type"], "value": action.get("value")}
            try:
                with transaction.atomic():
                    outcome = _run_action(
                        action,
                        ticket_id=firing.ticket_id,
                        actor=actor,
                        rule=rule,
                        now=now,
                        recorded=result,
                    )
            except ApplicationError as exc:
                result.update(result="failed", error=exc.message)
            except Exception as exc:  # a bug or a database error: logged, the others still run
                logger.exception("automation rule %s action %s failed", rule.pk, action["type"])
                result.update(result="failed", error=f"{type(exc).__name__}: {exc}"[:300])
            else:
                if isinstance(outcome, dt.datetime):
                    result.update(result="deferred", retry_at=outcome.isoformat())
                    deferred.append(action)
                    retry_at = min(retry_at or outcome, outcome)
                else:
                    result.update(result=outcome)
            results.append(result)
    if any(r["result"] == "failed" for r in results):
        firing.outcome = Outcome.FAILED
    elif deferred:
        firing.outcome = Outcome.DEFERRED
    else:
        firing.outcome = Outcome.OK
    firing.detail = [*firing.detail, *results]
    firing.pending_actions = deferred
    if deferred:
        firing.state, firing.due_at, firing.claimed_at = FiringState.PENDING, retry_at, None
    else:
        firing.state, firing.done_at = FiringState.DONE, now
    firing.save()
    tickets.event_record(
        ticket=Ticket(pk=firing.ticket_id),
        kind=TicketEvent.Kind.AUTOMATION,
        actor=actor,
        data={
            "rule": rule.pk,
            "name": rule.name,
            "version": firing.version,
            "event": firing.event,
            "outcome": firing.outcome,
            "actions": results,
        },
    )
    return firing


def _ticket_url(ticket: Ticket) -> str:
    return reverse("workspace:ticket", args=[ticket.number])


# The actions that are one call of a ticket service: the service's name (looked up when called)
# and the name of its argument.
_BY_ID = {
    spec.SET_PRIORITY: ("ticket_priority_set", "priority"),
    spec.ADD_TAG: ("ticket_tag_add", "name"),
    spec.REMOVE_TAG: ("ticket_tag_remove", "name"),
    spec.TRANSITION: ("ticket_transition", "action"),
}


def _run_action(
    action: dict, *, ticket_id: int, actor, rule: Rule, now: dt.datetime, recorded: dict
):
    """One action through the ticket's own service. Returns "ok" / "nothing to do", or the
    moment a deferred reply may be sent; raises ApplicationError when it cannot apply.
    `recorded` is what the timeline keeps of the action: a reply adds its template's title, so
    the event names what was sent without reading the template again."""
    kind, value = action["type"], action.get("value")
    if kind in _BY_ID:
        # These services lock and read the ticket themselves: they are given its id only.
        service, argument = _BY_ID[kind]
        getattr(tickets, service)(ticket=Ticket(pk=ticket_id), actor=actor, **{argument: value})
        return "ok"
    ticket = Ticket.objects.select_related("shop", "order", "customer", "assignee").get(
        pk=ticket_id
    )
    if kind == spec.ASSIGN:
        if value == "auto":
            if ticket.assignee_id is not None:
                return "nothing to do"
            return "ok" if ticket_auto_assign(ticket=ticket) else "nobody available"
        user = User.objects.filter(username=value, is_active=True).first()
        if user is None:
            raise ApplicationError("invalid_assignee", _("%(name)s not found.") % {"name": value})
        tickets.ticket_assign(ticket=ticket, assignee=user, actor=actor)
    elif kind == spec.INTERNAL_NOTE:
        tickets.message_add(ticket=ticket, body=value, actor=actor, internal=True)
    elif kind == spec.REPLY:
        template = reply_template_of_shop(ticket.shop_id, value)
        if template is None:
            raise ApplicationError("no_template", _("The reply template no longer exists."))
        recorded["title"] = template.title
        body = reply_template_fill(
            template.body, reply_template_values(ticket), language=template.language
        )
        if unfilled_placeholders(body):
            raise ApplicationError(
                "unfilled_template",
                _("The template has blanks this ticket cannot fill: %(names)s.")
                % {"names": " ".join(unfilled_placeholders(body))},
            )
        # The contact window and the daily limit: deferred, never dropped.
        later = contact_customer(
            ticket=ticket, purpose=ContactPurpose.RULE_REPLY, body=body, now=now, actor=actor
        )
        if later is not None:
            return later
    elif kind == spec.NOTIFY:
        if value == "assignee":
            if ticket.assignee is None:
                return "nobody assigned"
            recipients = [ticket.assignee]
        else:
            recipients = shop_supervisors(shop=ticket.shop)
        notification_send(
            recipients=recipients,
            shop=ticket.shop,
            kind="automation",
            title=gettext_noop("Rule “%(rule)s”: %(number)s needs you"),
            params={"rule": rule.name, "number": ticket.number},
            ticket=ticket,
            url=_ticket_url(ticket),
        )
    else:
        raise ApplicationError("unknown_action", _("Unknown action."))
    return "ok"


def firing_due(*, firing_id: int, now: dt.datetime | None = None) -> str:
    """A claimed firing's task (time rules, deferred replies): lock it, return if no longer
    claimed, re-check the ticket (a time rule's version still current and its conditions still
    holding), act, mark done — all in one transaction, so a killed worker leaves nothing
    half-done and a second delivery finds it done."""
    now = now or timezone.now()
    with transaction.atomic():
        firing = (
            RuleFiring.objects.select_for_update(of=("self",))
            .select_related("rule")
            .filter(pk=firing_id)
            .first()
        )
        if firing is None or firing.state != FiringState.CLAIMED:
            return "not claimed"
        ticket = (
            Ticket.objects.locked()
            .select_related("order", "customer", "dispute_type", "assignee", "shop")
            .get(pk=firing.ticket_id)
        )
        rule = firing.rule
        if firing.event == Event.TIME and not firing.detail:
            still = (
                rule.enabled
                and rule.deleted_at is None
                and rule.version == firing.version
                and conditions_match(rule.conditions, Facts(ticket))
            )
            if not still:
                firing.state, firing.outcome, firing.done_at = (
                    FiringState.DONE,
                    Outcome.SKIPPED,
                    now,
                )
                firing.save(update_fields=["state", "outcome", "done_at"])
                return "skipped"
        firing_act(firing=firing, rule=rule, now=now)
        return firing.outcome
