"""Reads for the disputes workspace: what the judgment and compensation panels and the
supervisor's inbox show."""

from decimal import Decimal, InvalidOperation

from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from disputes import services, standard
from disputes.models import Compensation, CompensationStatus, CompensationType, Judgment, Party
from shops.permissions import SUPERVISOR_ROLES
from shops.selectors import shop_ids_with_role
from tickets.models import Attachment, Ticket

POLICY_LABELS = {
    "goodwill_step": _("Goodwill per offer (¥)"),
    "goodwill_total_cap": _("Goodwill per ticket without approval (¥)"),
    "minor_defect_goodwill_min": _("Minor defect goodwill, minimum (¥)"),
    "return_shipping_cap": _("Return shipping subsidy cap (¥)"),
    "goodwill_price_ratio_cap": _("Goodwill instead of a return, share of the item price (0–1)"),
    "agent_authority": _("Agent authority per ticket (¥)"),
    "perishable_window_days": _("After-sales window for perishables (days)"),
    "batch_alert_threshold": _("Quality tickets on one batch before an alert"),
    "batch_alert_window_days": _("Batch alert window (days)"),
    "ship_within_hours": _("Ship within (hours of payment)"),
    "late_ship_penalty_rate": _("Late shipment penalty (share of the order, 0–1)"),
    "late_ship_penalty_points": _("Late shipment penalty points"),
    "courier_usual_transit_hours": _("Usual courier transit (hours)"),
    "food_safety_min_claim": _("Food safety claim minimum (¥)"),
    "food_safety_price_multiple": _("Food safety claim, multiple of the price"),
    "food_safety_loss_multiple": _("Food safety claim, multiple of the loss"),
    "risk_window_days": _("Risk window (days)"),
    "frequent_claimant_tickets": _("Tickets in the risk window before a customer is flagged"),
    "frequent_claimant_amount": _("Compensation granted in the risk window before a flag (¥)"),
}
# The standard's rows (standard.py `rule`), in words: a compensation shows which row it follows.
RULE_LABELS = {
    "goodwill": _("Goodwill while the customer keeps the goods"),
    "minor_defect_goodwill": _("Goodwill for a minor defect"),
    "misuse_goodwill": _("Goodwill although the customer misused it"),
    "apology_goodwill": _("Goodwill as an apology"),
    "pacify_accept_delivery": _("Goodwill for waiting for the delivery"),
    "food_goodwill": _("Goodwill on spoiled food"),
    "unusable_full_refund": _("Full refund, goods unusable"),
    "reship_replacement": _("Re-ship a replacement"),
    "return_refund": _("Return and refund"),
    "return_all_items": _("Return all items and refund"),
    "return_shipping_subsidy": _("Return shipping subsidy"),
    "goodwill_instead_of_return": _("More goodwill instead of a return"),
    "reship_seal_part": _("Re-ship the seal part"),
    "reship_missing": _("Re-ship the missing item"),
    "refund_missing": _("Refund the missing item"),
    "exchange_wrong_item": _("Exchange the wrong item"),
    "return_refund_wrong_item": _("Return the wrong item and refund"),
    "reship_order": _("Re-ship the order"),
    "intercept_and_refund": _("Intercept the parcel and refund"),
    "late_ship_penalty": _("Late shipment penalty"),
    "customer_fault_shipping_deducted": _("Refund less the shipping (customer's fault)"),
    "reship_corrected_address": _("Re-ship to the corrected address"),
    "no_reason_return": _("Return without reason (7 days)"),
    "counterfeit_return_refund": _("Counterfeit: return and refund"),
    "food_reship": _("Re-ship the food"),
    "food_refund": _("Refund the food"),
    "food_safety_claim": _("Food safety claim (Food Safety Law Art. 148)"),
    "partial_refund_ladder": _("Partial refund, keep the goods"),
    "food_partial_refund_ladder": _("Partial refund on spoiled food"),
    "courier_claim": _("Claim from the courier"),
}
POLL_SECONDS = 5
IN_FLIGHT = (
    CompensationStatus.PENDING_APPROVAL,
    CompensationStatus.APPROVED,
    CompensationStatus.EXECUTING,
)


def rule_label(rule: str) -> str:
    """A standard row in words; "" for none, "Other" for a row this version does not know."""
    if not rule:
        return ""
    return str(RULE_LABELS.get(rule, _("Other")))


def type_label(code: str) -> str:
    return services.compensation_type_label(code)


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def is_decider(*, user, shop_id: int) -> bool:
    return shop_id in decider_shop_ids(user=user)


def decider_shop_ids(*, user) -> list[int]:
    return shop_ids_with_role(user=user, roles=SUPERVISOR_ROLES)


def pending_approval_count_in(*, shop_ids: list[int]) -> int:
    if not shop_ids:
        return 0
    return Compensation.objects.filter(
        status=CompensationStatus.PENDING_APPROVAL, ticket__shop_id__in=shop_ids
    ).count()


# --- judgment panel -----------------------------------------------------------------------------


def judgment_panel_context(*, ticket: Ticket) -> dict:
    suggestion = services.judgment_suggest(ticket=ticket)
    zh = _zh()
    judgments = list(
        Judgment.objects.filter(ticket=ticket).select_related("created_by").order_by("-version")
    )
    return {
        "suggestion": suggestion,
        "suggested_label": Party(suggestion.party).label if suggestion.party else None,
        "rule_lines": [
            {
                "id": hit.id,
                "text": hit.text_zh if zh else hit.text,
                "party": Party(hit.party).label if hit.party in Party.values else hit.party,
            }
            for hit in suggestion.rules
        ],
        "judgments": judgments,
        "latest_judgment": judgments[0] if judgments else None,
        "parties": Party.choices,
    }


# --- compensation panel -------------------------------------------------------------------------


def walk_params(params) -> tuple[dict, list[str]]:
    """The standard's walk inputs from a query string; bad values fall back with a message."""
    errors = []
    usable = params.get("usable", "1") not in ("0", "false", "no")
    refused = params.get("customer_refused", "")
    if refused not in ("", "goodwill", "return"):
        errors.append(str(_("Unknown refusal; choose goodwill or return.")))
        refused = ""
    quote = None
    raw_quote = (params.get("return_shipping_quote") or "").strip()
    if raw_quote:
        try:
            quote = Decimal(raw_quote)
            if not quote.is_finite() or quote < 0:
                raise InvalidOperation
            quote = quote.quantize(Decimal("0.01"))
        except InvalidOperation:
            errors.append(
                str(_("The shipping quote must be a non-negative amount in yuan, e.g. 12.00."))
            )
            quote = None
    ladder = params.get("ladder_step", "0")
    ladder_step = int(ladder) if ladder in ("0", "1", "2") else 0
    return {
        "usable": usable,
        "customer_refused": refused or None,
        "return_shipping_quote": quote,
        "ladder_step": ladder_step,
    }, errors


def compensation_panel_context(*, ticket: Ticket, user, params) -> dict:
    walk, errors = walk_params(params)
    policy_row = services.policy_current(shop=ticket.shop)
    policy = services.policy_of(policy_row)
    facts = services.ticket_facts(ticket=ticket, policy=policy)
    held_because = services.review_reasons(tickets=[ticket]).get(ticket.pk, {})
    options = services.compensation_options(ticket=ticket, held_because=held_because, **walk)
    zh = _zh()
    rows = [
        {
            "option": option,
            "type_label": CompensationType(option.type).label,
            "rationale": option.rationale_zh if zh else option.rationale,
            "value": f"{option.type}:{option.amount}",
        }
        for option in options
    ]
    pair = [row for row in rows if row["option"] in standard.two_options(options)]
    used = services.authority_used(ticket=ticket)
    totals = services.compensation_granted(ticket=ticket)
    return {
        "ticket": ticket,
        "walk": walk,
        "walk_errors": errors,
        "options": rows,
        "pair": pair,
        "policy_version": policy_row.version,
        "policy": policy,
        "totals": totals,
        "authority_left": max(policy.agent_authority - used, Decimal("0.00")),
        "refundable": standard.refundable_total(facts),
        "needs_photo": ticket.dispute_type.photo_required and not facts.has_photo,
        "review_reasons": list(held_because.values()),
        "food_safety_exposure": standard.food_safety_exposure(facts, policy)
        if facts.dispute_type == "spoiled_food"
        else None,
        "types": CompensationType.choices,
        **compensation_list_context(ticket=ticket, user=user),
    }


def compensation_list_context(*, ticket: Ticket, user) -> dict:
    rows = list(
        Compensation.objects.filter(ticket=ticket)
        .select_related("policy", "proposed_by", "decided_by")
        .order_by("-created_at", "-id")
    )
    for row in rows:
        row.rule_label = rule_label(row.rule)
        row.offered_labels = [
            f"{type_label(o.get('type', ''))} ¥{o.get('amount', '')}"
            for o in row.offered
            if isinstance(o, dict)
        ]
        # Approved with no live endpoint: nobody told the shop, so staff record what happened.
        row.awaits_shop = row.status == CompensationStatus.APPROVED
    return {
        "ticket": ticket,
        "compensations": rows,
        # Poll while a decision or the shop's execution report is awaited; a page swap restarts it.
        "in_flight": any(row.status in IN_FLIGHT for row in rows),
        "can_decide": is_decider(user=user, shop_id=ticket.shop_id),
        "poll_seconds": POLL_SECONDS,
        "decisions": [("approve", _("Approve")), ("reject", _("Reject"))],
        "cancellable": (
            CompensationStatus.PROPOSED,
            CompensationStatus.PENDING_APPROVAL,
            CompensationStatus.APPROVED,
        ),
    }


# --- a customer's history --------------------------------------------------------------------

# The parties the customer's page always lists (a count of 0 says "never"); "no fault" when it occurs.
CUSTOMER_PAGE_PARTIES = (Party.MERCHANT, Party.COURIER, Party.CUSTOMER, Party.MANUFACTURER)


def customer_compensation(*, customer_id: int) -> dict[str, Decimal]:
    """Granted, pending and recovered over all the customer's tickets (services.compensation_totals:
    the one definition of each), in one query."""
    return services.compensation_totals(
        Compensation.objects.filter(ticket__customer_id=customer_id).values_list(
            "type", "status", "amount"
        )
    )


def customer_judgments_by_party(*, customer_id: int) -> list[tuple[str, int]]:
    """(party, tickets): who was found responsible on the customer's tickets, by each ticket's
    current judgment (a revision replaces the earlier version), in one query."""
    current_version = (
        Judgment.objects.filter(ticket_id=OuterRef("ticket_id"))
        .order_by("-version")
        .values("version")[:1]
    )
    counts = dict(
        Judgment.objects.filter(ticket__customer_id=customer_id, version=Subquery(current_version))
        .values("party")
        .annotate(n=Count("id"))
        .values_list("party", "n")
    )
    parties = [p.value for p in CUSTOMER_PAGE_PARTIES]
    parties += sorted(p for p in counts if p not in parties)
    return [(party, counts.get(party, 0)) for party in parties]


# --- supervisor inbox ---------------------------------------------------------------------------


def ticket_money(*, ticket_ids) -> dict[int, dict[str, Decimal]]:
    """For many tickets in one query: services.compensation_totals (granted, pending, rejected,
    recovered) plus `authority_used`, the cash-equivalent counted against the agent's limit."""
    rows: dict[int, list] = {}
    for ticket_id, kind, status, amount in Compensation.objects.filter(
        ticket_id__in=list(ticket_ids)
    ).values_list("ticket_id", "type", "status", "amount"):
        rows.setdefault(ticket_id, []).append((kind, status, amount))
    money = {}
    for ticket_id in ticket_ids:
        ticket_rows = rows.get(ticket_id, [])
        money[ticket_id] = {
            **services.compensation_totals(ticket_rows),
            "authority_used": sum(
                (
                    standard.cash_equivalent(k, a)
                    for k, st, a in ticket_rows
                    if st in services.AUTHORITY_STATUSES
                ),
                Decimal("0.00"),
            ),
        }
    return money


def approval_inbox_context(*, user) -> dict:
    shop_ids = decider_shop_ids(user=user)
    pending = list(
        Compensation.objects.filter(
            status=CompensationStatus.PENDING_APPROVAL, ticket__shop_id__in=shop_ids
        )
        .select_related(
            "ticket__shop",
            "ticket__dispute_type",
            "ticket__customer",
            "ticket__order",
            "policy",
            "proposed_by",
        )
        .prefetch_related(
            Prefetch("ticket__attachments", queryset=Attachment.objects.order_by("id")),
            Prefetch("ticket__judgments", queryset=Judgment.objects.order_by("-version")),
        )
        .order_by("created_at", "id")[:100]
    )
    zh = _zh()
    money_by_ticket = ticket_money(ticket_ids={c.ticket_id for c in pending})
    reasons = services.review_reasons(tickets={c.ticket_id: c.ticket for c in pending}.values())
    entries = []
    for compensation in pending:
        ticket = compensation.ticket
        policy = services.policy_of(compensation.policy)
        money = money_by_ticket[ticket.pk]
        judgments = list(ticket.judgments.all())
        exposure = None
        if ticket.dispute_type.rule_code == services.FOOD_SAFETY_CODE:
            exposure = standard.food_safety_exposure(
                services.ticket_facts(ticket=ticket, policy=policy), policy
            )
        judgment = judgments[0] if judgments else None
        entries.append(
            {
                "compensation": compensation,
                "ticket": ticket,
                "type_label": CompensationType(compensation.type).label,
                "rule_label": rule_label(compensation.rule),
                "judgment": judgment,
                "judgment_rules": [
                    r.get("text", "") if not zh else r.get("text_zh", r.get("text", ""))
                    for r in (judgment.rules if judgment else [])
                ],
                "attachments": list(ticket.attachments.all()),
                "authority": policy.agent_authority,
                "order_amount": ticket.order.amount,
                # What the ticket has with this one: granted, plus asked for (this one included).
                "ticket_total": money["granted"] + money["pending"],
                "money": money,
                "authority_used": money["authority_used"],
                "over_authority": standard.over_agent_authority(money["authority_used"], policy),
                "food_safety_exposure": exposure,
                "review_reasons": list(reasons.get(ticket.pk, {}).values()),
            }
        )
    return {
        "entries": entries,
        "decider_shop_ids": shop_ids,
        "decisions": [("approve", _("Approve")), ("reject", _("Reject"))],
    }
