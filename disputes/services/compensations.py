"""Compensation: options from the standard (standard.py), proposals checked against the agent's
authority, supervisor decisions, the shop's execution report, and the lifecycle table."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from aftersales import hooks
from aftersales.exceptions import ApplicationError
from disputes import standard
from disputes.facts import Policy, TicketFacts, money
from disputes.models import (
    AMOUNT_LIMIT,
    COMPENSATION_TRANSITIONS,
    GOODS_TYPES,
    Compensation,
    CompensationStatus,
    CompensationType,
)
from disputes.services.checks import field_error, notes_bounded
from disputes.services.judgments import _party, judgment_latest, ticket_facts
from disputes.services.policy import FOOD_SAFETY_CODE, policy_current, policy_of
from notifications.services import notification_send, shop_supervisors
from shops.permissions import SUPERVISOR_ROLES
from shops.selectors import user_role_in_shop
from tickets.models import Ticket
from tickets.services import Actor, event_record
from webhooks.services import event_emit

# What counts against the agent's authority (DOMAIN.md §5): everything granted *and* everything
# still asked for, so two proposals cannot each slip under the limit. Not what the ticket "got".
AUTHORITY_STATUSES = [
    CompensationStatus.PROPOSED,
    CompensationStatus.PENDING_APPROVAL,
    CompensationStatus.APPROVED,
    CompensationStatus.EXECUTING,
    CompensationStatus.EXECUTED,
]
# What the ticket was granted (已给; API.md: granted = approved + executing + executed).
GRANTED_STATUSES = [
    CompensationStatus.APPROVED,
    CompensationStatus.EXECUTING,
    CompensationStatus.EXECUTED,
]
# Asked for and not decided yet.
PENDING_STATUSES = [CompensationStatus.PROPOSED, CompensationStatus.PENDING_APPROVAL]


# --- compensation -------------------------------------------------------------


def authority_used(*, ticket: Ticket) -> Decimal:
    """Cash-equivalent counted against the agent's authority and the goodwill cap: what was
    granted plus what is still asked for (AUTHORITY_STATUSES; standard.cash_equivalent: a courier
    claim is money coming back, a return is the customer's own money)."""
    # Written out (as judgment_latest): read on every ticket page, for the 2-选-1 words.
    rows = Compensation.objects.raw(_AUTHORITY_SQL, [ticket.pk, *map(str, AUTHORITY_STATUSES)])
    return sum((standard.cash_equivalent(row.type, row.amount) for row in rows), Decimal("0.00"))


_AUTHORITY_SQL = (
    f'SELECT id, type, amount FROM "{Compensation._meta.db_table}" WHERE ticket_id = %s'
    f" AND status IN ({', '.join(['%s'] * len(AUTHORITY_STATUSES))})"
)


def is_granted(status: str) -> bool:
    """The one definition of "granted" (已给): approved, sent to the shop or executed."""
    return status in GRANTED_STATUSES


def review_reasons(*, tickets) -> dict[int, dict[str, str]]:
    """Why each ticket's compensation must wait for a supervisor whatever its amount, by ticket id
    (the features' answers, e.g. risk's flags); a ticket without reasons is absent."""
    tickets = list(tickets)
    return hooks.collect(hooks.COMPENSATION_REVIEW_REASONS, tickets=tickets) if tickets else {}


def compensation_totals(rows) -> dict[str, Decimal]:
    """What a ticket's compensations add up to, by their amounts as given: `granted` (is_granted),
    `pending` (asked, not decided), `rejected`; `recovered` is courier claims granted (money coming
    back, never counted as given). `rows` are Compensations or (type, status, amount) tuples."""
    totals = {key: Decimal("0.00") for key in ("granted", "pending", "rejected", "recovered")}
    for row in rows:
        kind, status, amount = (
            (row.type, row.status, row.amount) if isinstance(row, Compensation) else row
        )
        if kind == CompensationType.COURIER_CLAIM:
            if is_granted(status):
                totals["recovered"] += amount
            continue
        if is_granted(status):
            totals["granted"] += amount
        elif status in PENDING_STATUSES:
            totals["pending"] += amount
        elif status == CompensationStatus.REJECTED:
            totals["rejected"] += amount
    return totals


def compensation_granted(*, ticket: Ticket) -> dict[str, Decimal]:
    return compensation_totals(
        Compensation.objects.filter(ticket=ticket).values_list("type", "status", "amount")
    )


def compensation_ceiling(*, type: str, facts: TicketFacts, policy: Policy) -> Decimal | None:
    """The most one compensation of `type` may be on this ticket: the order's amount (or its
    items' total, whichever is larger) — money paid back, cash, coupons and subsidies, and goods
    re-shipped, exchanged or repaired are all worth at most the order. Food safety is the
    exception: its cash can reach the 食品安全法 Art. 148 claim (10× the price, at least ¥1,000).
    None when the order carries no amount at all (then only the column's limit applies)."""
    ceiling = max(facts.order_amount or Decimal("0.00"), standard.order_items_total(facts))
    if type == CompensationType.CASH and facts.dispute_type == FOOD_SAFETY_CODE:
        ceiling = max(ceiling, standard.food_safety_exposure(facts, policy))
    return ceiling if ceiling > 0 else None


def amount_error(*, type: str, amount: Decimal) -> str:
    """Why `amount` cannot be a compensation of `type` whatever the ticket ("" when it can): it
    must fit the books (2 places, below 10^10) and be above ¥0 — except goods (GOODS_TYPES), whose
    value may be unknown."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return gettext("Enter a number of yuan, e.g. 5.00.")
    if amount < 0:
        return gettext("Must not be negative.")
    if amount >= AMOUNT_LIMIT:
        return gettext("Must be less than ¥10,000,000,000.")
    if amount != amount.quantize(Decimal("0.01")):
        return gettext("At most 2 decimal places.")
    if amount == 0 and type not in GOODS_TYPES:
        return gettext("Must be more than ¥0.00.")
    return ""


def compensation_options(
    *,
    ticket: Ticket,
    usable: bool = True,
    customer_refused: str | None = None,
    return_shipping_quote: Decimal | None = None,
    ladder_step: int = 0,
    held_because: dict[str, str] | None = None,
) -> list[standard.Option]:
    """The standard's options for the ticket at this step of the walk. `held_because`: the
    ticket's review reasons when the caller has them already (else they are asked here)."""
    policy = policy_of(policy_current(shop=ticket.shop))
    judgment = judgment_latest(ticket=ticket)
    options = standard.compensation_options(
        ticket_facts(ticket=ticket, policy=policy),
        policy,
        usable=usable,
        customer_refused=customer_refused,
        return_shipping_quote=return_shipping_quote,
        already_granted=authority_used(ticket=ticket),
        party=judgment.party if judgment else None,
        ladder_step=ladder_step,
    )
    if held_because is None:
        held_because = review_reasons(tickets=[ticket]).get(ticket.pk, {})
    if held_because:
        # A flagged ticket (risk): whatever it costs, every option waits for a supervisor, as
        # compensation_propose will decide.
        options = [replace(option, requires_approval=True) for option in options]
    return options


def _role(actor: Actor, shop_id: int) -> str | None:
    return user_role_in_shop(user=actor.user, shop_id=shop_id) if actor.user else None


@transaction.atomic
def compensation_propose(
    *,
    ticket: Ticket,
    type: str,
    amount: Decimal,
    actor: Actor,
    items: list | None = None,
    note: str = "",
    condition: str = "",
    offered: list | None = None,
) -> Compensation:
    """Approved at once when within the proposer's authority and the standard, counting what
    the ticket was already granted; otherwise it waits for a supervisor. `offered` is the
    2-选-1 pair put to the customer; the proposal must be one of them (the customer's choice)."""
    notes_bounded(note=note)
    if standard.is_review_conditioned(condition):
        raise ApplicationError(
            "review_conditioned_not_allowed",
            gettext(
                "Compensation conditioned on a good review is not allowed (《网络反不正当竞争暂行规定》 Art. 9)."
            ),
        )
    if type not in CompensationType.values:
        raise field_error(
            "type", gettext("Unknown compensation type; choose one of the kinds offered.")
        )
    error = amount_error(type=type, amount=amount)
    if error:
        raise field_error("amount", error)
    amount = amount.quantize(Decimal("0.01"))
    offered = _offered_pair(offered, type=type, amount=amount)
    locked = (
        Ticket.objects.locked().select_related("shop", "dispute_type", "order").get(pk=ticket.pk)
    )
    policy_row = policy_current(shop=locked.shop)
    policy = policy_of(policy_row)
    facts = ticket_facts(ticket=locked, policy=policy)
    # The choice and the option it was offered beside are each at most what the ticket allows.
    asked = [("amount", type, amount)] + [
        ("offered", o["type"], Decimal(o["amount"])) for o in offered
    ]
    for field, entry_type, entry_amount in asked:
        ceiling = compensation_ceiling(type=entry_type, facts=facts, policy=policy)
        if ceiling is not None and entry_amount > ceiling:
            raise field_error(
                field,
                gettext(
                    "¥%(amount)s is more than this ticket allows: at most ¥%(ceiling)s (the order's amount)."
                )
                % {"amount": entry_amount, "ceiling": ceiling},
            )

    if type in (CompensationType.REFUND, CompensationType.RETURN_REFUND):
        refundable = standard.refundable_total(facts)
        refunded = Compensation.objects.filter(
            ticket=locked,
            status__in=AUTHORITY_STATUSES,
            type__in=[CompensationType.REFUND, CompensationType.RETURN_REFUND],
        ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
        if amount + refunded > refundable:
            raise ApplicationError(
                "amount_exceeds_refundable",
                gettext(
                    "¥%(amount)s plus ¥%(refunded)s already refunded exceeds the affected items' total of ¥%(refundable)s."
                )
                % {"amount": amount, "refunded": refunded, "refundable": refundable},
            )
    if (
        locked.dispute_type.photo_required
        and not facts.has_photo
        and type != CompensationType.COURIER_CLAIM
    ):
        raise ApplicationError(
            "evidence_required",
            gettext("A clear photo of the problem is required before compensating this dispute."),
        )

    already_granted = authority_used(ticket=locked)
    party = _party(locked)
    options = _standard_walk(facts, policy, already_granted=already_granted, party=party)
    within = standard.within_standard(options, type, amount)
    is_decider = _role(actor, locked.shop_id) in SUPERVISOR_ROLES
    needs_approval = standard.needs_supervisor(
        standard.cash_equivalent(type, amount),
        already_granted,
        policy,
        within_standard=within,
        is_supervisor=is_decider,
        review_reasons=review_reasons(tickets=[locked]).get(locked.pk),
    )
    matched = next((o for o in options if o.type == type and amount <= o.amount), None)
    now = timezone.now()
    compensation = Compensation.objects.create(
        ticket=locked,
        type=type,
        amount=amount,
        items=items or [],
        note=note,
        offered=offered,
        within_standard=within,
        rule=matched.rule if matched else "",
        policy=policy_row,
        proposed_by=actor.user,
        status=CompensationStatus.PENDING_APPROVAL
        if needs_approval
        else CompensationStatus.APPROVED,
        decided_by=None if needs_approval else actor.user,
        decided_at=None if needs_approval else now,
    )
    event_record(
        ticket=locked,
        kind="compensation_proposed",
        actor=actor,
        data={
            "id": compensation.pk,
            "type": type,
            "amount": str(amount),
            "status": compensation.status,
            "within_standard": within,
        },
    )
    if compensation.status == CompensationStatus.APPROVED:
        hooks.emit(hooks.COMPENSATION_DECIDED, compensation=compensation, actor=actor)
        _announce_approval(compensation, actor)
    else:
        _ask_supervisors(compensation)
    return compensation


def _offered_pair(offered: list | None, *, type: str, amount: Decimal) -> list[dict]:
    """The offered options as [{"type", "amount"}] with the chosen one among them, else a 400."""
    if not offered:
        return []
    if not isinstance(offered, list) or len(offered) > 2:
        raise field_error(
            "offered", gettext("Give the one or two options offered to the customer.")
        )
    pair = []
    for entry in offered:
        try:
            entry_type, entry_amount = entry["type"], money(entry["amount"])
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise field_error(
                "offered", gettext("Each offered option needs a type and a decimal amount.")
            ) from None
        if entry_type not in CompensationType.values or amount_error(
            type=entry_type, amount=entry_amount
        ):
            raise field_error(
                "offered",
                gettext("%(type)s ¥%(amount)s is not a valid option.")
                % {"type": compensation_type_label(entry_type), "amount": entry_amount},
            )
        pair.append({"type": entry_type, "amount": str(entry_amount)})
    if {"type": type, "amount": str(money(amount))} not in pair:
        raise field_error(
            "offered", gettext("The customer's choice must be one of the offered options.")
        )
    return pair


def _ask_supervisors(compensation: Compensation) -> None:
    ticket = compensation.ticket
    notification_send(
        recipients=shop_supervisors(shop=ticket.shop),
        shop=ticket.shop,
        kind="approval_requested",
        title=gettext_noop("Compensation ¥%(amount)s on %(number)s waits for your approval"),
        body="%(note)s",
        params={
            "amount": str(compensation.amount),
            "number": ticket.number,
            "note": compensation.note,
        },
        ticket=ticket,
        url=reverse("disputes:approvals"),
    )


def food_safety_escalate(*, ticket: Ticket) -> None:
    """A spoiled-food ticket goes to the shop's supervisors at once, with what a claim under
    食品安全法 Art. 148 could reach (DOMAIN.md §5). Called by ticket_create, in its transaction."""
    if ticket.dispute_type.rule_code != FOOD_SAFETY_CODE:
        return
    policy = policy_of(policy_current(shop=ticket.shop))
    stored = Ticket.objects.select_related("order", "dispute_type").get(
        pk=ticket.pk
    )  # amounts as stored, not as given
    exposure = standard.food_safety_exposure(ticket_facts(ticket=stored, policy=policy), policy)
    notification_send(
        recipients=shop_supervisors(shop=ticket.shop),
        shop=ticket.shop,
        kind="food_safety",
        title=gettext_noop(
            "Food safety: %(number)s could be claimed at ¥%(exposure)s (Food Safety Law Art. 148)"
        ),
        body=gettext_noop("An urgent ticket: answer it yourself or assign it now."),
        params={"number": ticket.number, "exposure": str(exposure)},
        ticket=ticket,
        url=reverse("workspace:ticket", args=[ticket.number]),
    )


def _tell_proposer(compensation: Compensation) -> None:
    ticket = compensation.ticket
    if (
        compensation.proposed_by is None
        or compensation.proposed_by_id == compensation.decided_by_id
    ):
        return
    title = (
        gettext_noop("Compensation ¥%(amount)s on %(number)s was approved")
        if compensation.status in (CompensationStatus.APPROVED, CompensationStatus.EXECUTING)
        else gettext_noop("Compensation ¥%(amount)s on %(number)s was rejected")
    )
    notification_send(
        recipients=[compensation.proposed_by],
        shop=ticket.shop,
        kind="compensation_decided",
        title=title,
        body="%(note)s",
        params={
            "amount": str(compensation.amount),
            "number": ticket.number,
            "note": compensation.decision_note,
        },
        ticket=ticket,
        url=reverse("workspace:ticket", args=[ticket.number]),
    )


def compensation_type_label(code: str) -> str:
    return str(CompensationType(code).label) if code in CompensationType.values else code


def _standard_walk(facts, policy, *, already_granted, party) -> list[standard.Option]:
    """Every option any step of the standard's walk offers (usable or not, goodwill refused with
    a quote under or over the cap, the partial-refund ladder)."""
    over_cap = policy.return_shipping_cap + Decimal("0.01")
    steps = [
        {},
        {"usable": False},
        {"customer_refused": "goodwill", "return_shipping_quote": policy.return_shipping_cap},
        {"customer_refused": "goodwill", "return_shipping_quote": over_cap},
        {"customer_refused": "return", "ladder_step": 2},
    ]
    options = []
    for step in steps:
        options += standard.compensation_options(
            facts, policy, already_granted=already_granted, party=party, **step
        )
    return options


def _announce_approval(compensation: Compensation, actor: Actor) -> None:
    event = event_emit(
        shop=compensation.ticket.shop,
        type="compensation.approved",
        data=compensation_payload(compensation),
    )
    if event is not None:  # the instruction is on its way to the shop backend
        compensation.save(update_fields=compensation_move(compensation, "send"))


def compensation_payload(compensation: Compensation) -> dict:
    return {
        "id": compensation.pk,
        "ticket": compensation.ticket.number,
        "type": compensation.type,
        "amount": str(compensation.amount),
        "items": compensation.items,
        "status": compensation.status,
        "note": compensation.note,
        "policy_version": compensation.policy.version,
    }


# What a refused move says (%(status)s: the compensation's status now).
_ILLEGAL_MOVE = {
    "approve": gettext_noop("The compensation is %(status)s, not pending approval."),
    "reject": gettext_noop("The compensation is %(status)s, not pending approval."),
    "send": gettext_noop("The compensation is %(status)s, not pending approval."),
    "execute": gettext_noop(
        "The compensation is %(status)s; only an approved one can be executed."
    ),
    "fail": gettext_noop("The compensation is %(status)s; only an approved one can fail."),
    "cancel": gettext_noop("A compensation that is %(status)s cannot be cancelled."),
}


def compensation_move(compensation: Compensation, action: str) -> list[str]:
    """Set the status `action` leads to (COMPENSATION_TRANSITIONS), or 409 when the compensation's
    status does not allow it. The caller holds the row lock, saves, and records the change on
    the timeline. Returns the fields to save."""
    sources, target = COMPENSATION_TRANSITIONS[action]
    if compensation.status not in sources:
        raise ApplicationError(
            "illegal_state",
            gettext(_ILLEGAL_MOVE[action]) % {"status": compensation.get_status_display()},
            status_code=409,
        )
    compensation.status = target
    return ["status", "updated_at"]


def _lock_compensation(compensation_id: int) -> Compensation:
    return (
        Compensation.objects.select_for_update(of=("self",))
        .select_related("ticket__shop", "policy")
        .get(pk=compensation_id)
    )


def _require_decider(actor: Actor, shop_id: int) -> None:
    if _role(actor, shop_id) not in SUPERVISOR_ROLES:
        raise ApplicationError(
            "not_allowed",
            gettext("Only a supervisor or an admin can decide on compensation."),
            status_code=403,
        )


def _decide(compensation: Compensation, *, actor: Actor, action: str, note: str) -> Compensation:
    """A supervisor's decision on a pending compensation. The row lock makes two deciders at
    once take turns: the second finds it no longer pending and gets 409."""
    notes_bounded(note=note)
    _require_decider(actor, compensation.ticket.shop_id)
    locked = _lock_compensation(compensation.pk)
    fields = compensation_move(locked, action)
    locked.decided_by = actor.user
    locked.decided_at = timezone.now()
    locked.decision_note = note
    locked.save(update_fields=[*fields, "decided_by", "decided_at", "decision_note"])
    event_record(
        ticket=locked.ticket,
        kind=f"compensation_{locked.status}",
        actor=actor,
        data={"id": locked.pk, "note": note},
    )
    hooks.emit(hooks.COMPENSATION_DECIDED, compensation=locked, actor=actor)
    return locked


@transaction.atomic
def compensation_approve(
    *, compensation: Compensation, actor: Actor, note: str = ""
) -> Compensation:
    approved = _decide(compensation, actor=actor, action="approve", note=note)
    _announce_approval(approved, actor)
    _tell_proposer(approved)
    return approved


@transaction.atomic
def compensation_reject(*, compensation: Compensation, actor: Actor, note: str) -> Compensation:
    if not (note or "").strip():
        raise field_error("note", gettext("Say why it is rejected."))
    rejected = _decide(compensation, actor=actor, action="reject", note=note)
    event_emit(
        shop=rejected.ticket.shop, type="compensation.rejected", data=compensation_payload(rejected)
    )
    _tell_proposer(rejected)
    return rejected


@transaction.atomic
def compensation_cancel(
    *, compensation: Compensation, actor: Actor, note: str = ""
) -> Compensation:
    notes_bounded(note=note)
    locked = _lock_compensation(compensation.pk)
    locked.save(update_fields=compensation_move(locked, "cancel"))
    event_record(
        ticket=locked.ticket,
        kind="compensation_cancelled",
        actor=actor,
        data={"id": locked.pk, "note": note},
    )
    return locked


@transaction.atomic
def compensation_report_executed(
    *,
    compensation: Compensation,
    actor: Actor,
    external_ref: str = "",
    executed_at: dt.datetime | None = None,
) -> Compensation:
    """The shop backend did it. Reporting the same execution again changes nothing."""
    locked = _lock_compensation(compensation.pk)
    if locked.status == CompensationStatus.EXECUTED and locked.external_ref == (external_ref or ""):
        return locked
    fields = compensation_move(locked, "execute")
    locked.external_ref = external_ref or ""
    locked.executed_at = executed_at or timezone.now()
    locked.save(update_fields=[*fields, "external_ref", "executed_at"])
    event_record(
        ticket=locked.ticket,
        kind="compensation_executed",
        actor=actor,
        data={
            "id": locked.pk,
            "external_ref": locked.external_ref,
            "executed_at": locked.executed_at.isoformat(),
        },
    )
    hooks.emit(hooks.COMPENSATION_EXECUTED, compensation=locked, actor=actor)
    return locked


@transaction.atomic
def compensation_report_failed(
    *, compensation: Compensation, actor: Actor, reason: str
) -> Compensation:
    if not (reason or "").strip():
        raise field_error("reason", gettext("Say what went wrong."))
    notes_bounded(reason=reason)
    locked = _lock_compensation(compensation.pk)
    if locked.status == CompensationStatus.FAILED and locked.failure_reason == reason:
        return locked
    fields = compensation_move(locked, "fail")
    locked.failure_reason = reason
    locked.save(update_fields=[*fields, "failure_reason"])
    event_record(
        ticket=locked.ticket,
        kind="compensation_failed",
        actor=actor,
        data={"id": locked.pk, "reason": reason},
    )
    ticket = locked.ticket
    notification_send(
        recipients=[locked.proposed_by, *shop_supervisors(shop=ticket.shop)],
        shop=ticket.shop,
        kind="compensation_failed",
        title=gettext_noop("Compensation ¥%(amount)s on %(number)s failed at the shop"),
        body="%(note)s",
        params={"amount": str(locked.amount), "number": ticket.number, "note": reason},
        ticket=ticket,
        url=reverse("workspace:ticket", args=[ticket.number]),
    )
    return locked
