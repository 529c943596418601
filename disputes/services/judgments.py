"""The facts a ticket gives the rules, and responsibility judgments: suggested by rules R1–R10
(rules.py), confirmed or overridden by an agent."""

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from aftersales.db import instance_read, instances_read, joined_columns
from aftersales.exceptions import ApplicationError
from aftersales.prefetch import prefetched
from disputes import rules
from disputes.facts import ItemFact, LogisticsFact, Policy, TicketFacts
from disputes.models import (
    Judgment,
    Party,
)
from disputes.quality import is_quality_type, same_batch_ticket_count
from disputes.services.checks import notes_bounded
from disputes.services.policy import FOOD_SAFETY_CODE, policy_current, policy_of
from tickets.models import LogisticsEvent, Ticket
from tickets.services import Actor, event_record

# --- facts ------------------------------------------------------------------


def ticket_facts(*, ticket: Ticket, policy: Policy, now: dt.datetime | None = None) -> TicketFacts:
    now = now or timezone.now()
    order = ticket.order
    # Units still to place per affected SKU; no affected items given = the whole order is affected.
    # Decided once, before the loop: whether an item counts must not depend on the items listed before it.
    remaining: dict[str, int] = {}
    for row in ticket.affected_items or []:
        remaining[row["sku"]] = remaining.get(row["sku"], 0) + row["quantity"]
    whole_order = not remaining
    items = []
    for item in sorted(order.items.all(), key=lambda item: item.pk):  # prefetched on the page
        if whole_order:
            affected_quantity = item.quantity
        else:  # a SKU on several lines: its affected units fill the lines in order
            affected_quantity = min(remaining.get(item.sku, 0), item.quantity)
            if affected_quantity:
                remaining[item.sku] -= affected_quantity
        items.append(
            ItemFact(
                sku=item.sku,
                name=item.name,
                batch_no=item.batch_no,
                unit_price=item.unit_price,
                quantity=item.quantity,
                perishable=item.perishable,
                affected_quantity=affected_quantity,
            )
        )
    items = tuple(items)
    logistics = tuple(
        LogisticsFact(
            event=e.event, at=e.at, signed_by=e.signed_by, authorized=e.authorized, reason=e.reason
        )
        for e in instances_read(_LOGISTICS_SQL, [ticket.pk], LogisticsEvent)  # (as judgment_latest)
    )
    attachments = prefetched(ticket, "attachments")  # the ticket page's
    if attachments is not None:
        has_photo = any(a.content_type.startswith("image/") for a in attachments)
    else:
        has_photo = ticket.attachments.filter(content_type__startswith="image/").exists()
    return TicketFacts(
        dispute_type=ticket.dispute_type.rule_code,
        reported_at=ticket.created_at,
        order_amount=order.amount,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        courier=order.courier,
        items=items,
        logistics=logistics,
        has_photo=has_photo,
        same_batch_ticket_count=same_batch_ticket_count(
            ticket=ticket, window_days=policy.batch_alert_window_days
        )
        if _batch_count_read(ticket.dispute_type)
        else 0,
        now=now,
        dispute_category=ticket.dispute_type.category,
    )


_LOGISTICS_SQL = (
    f"SELECT {joined_columns(('e', LogisticsEvent))} FROM {LogisticsEvent._meta.db_table} e"
    ' WHERE e.ticket_id = %s ORDER BY e."at", e.id'
)


def _batch_count_read(dispute_type) -> bool:
    """Whether the rules read the ticket's same-batch count: for a quality ticket (the batch
    alert) and by R7 (spoiled food). Other tickets are not counted (a query on the shop's
    tickets by SKU and batch): their facts say 0."""
    return is_quality_type(dispute_type) or dispute_type.rule_code == FOOD_SAFETY_CODE


# --- responsibility -----------------------------------------------------------


def judgment_suggest(*, ticket: Ticket) -> rules.Suggestion:
    policy = policy_of(policy_current(shop=ticket.shop))
    return rules.suggest_responsibility(ticket_facts(ticket=ticket, policy=policy), policy)


def judgment_latest(*, ticket: Ticket) -> Judgment | None:
    # Written out, as the other reads of every ticket page are (bench/README.md): the ORM spent
    # more building and compiling this query than PostgreSQL spends answering it.
    return instance_read(_LATEST_JUDGMENT_SQL, [ticket.pk], Judgment)


_LATEST_JUDGMENT_SQL = (
    f"SELECT {joined_columns(('j', Judgment))} FROM {Judgment._meta.db_table} j"
    " WHERE j.ticket_id = %s ORDER BY j.version DESC LIMIT 1"
)


@transaction.atomic
def judgment_create(
    *, ticket: Ticket, party: str, actor: Actor, reason: str = "", note: str = ""
) -> Judgment:
    notes_bounded(reason=reason, note=note)
    if party not in Party.values:
        raise ApplicationError(
            "validation_error",
            gettext("The request has invalid fields."),
            fields={
                "party": gettext("Unknown party; use one of %(parties)s.")
                % {"parties": ", ".join(Party.values)}
            },
        )
    locked = Ticket.objects.locked().get(pk=ticket.pk)
    suggestion = judgment_suggest(ticket=locked)
    if suggestion.party and party != suggestion.party and not (note or reason).strip():
        raise ApplicationError(
            "override_needs_note",
            gettext("The rules suggest %(suggested)s; say why you judge %(party)s in the note.")
            % {"suggested": _party_label(suggestion.party), "party": _party_label(party)},
        )
    version = (Judgment.objects.filter(ticket=locked).aggregate(v=Max("version"))["v"] or 0) + 1
    judgment = Judgment.objects.create(
        ticket=locked,
        version=version,
        party=party,
        reason=reason,
        note=note,
        suggested_party=suggestion.party or "",
        rules=[
            {"id": hit.id, "text": hit.text, "text_zh": hit.text_zh} for hit in suggestion.rules
        ],
        penalty_exposure=suggestion.penalty_exposure,
        created_by=actor.user,
    )
    event_record(
        ticket=locked,
        kind="judgment",
        actor=actor,
        data={
            "version": version,
            "party": party,
            "suggested": suggestion.party,
            "reason": reason,
            "note": note,
        },
    )
    return judgment


def _party_label(code: str | None) -> str:
    return str(Party(code).label) if code in Party.values else (code or "—")


def _party(ticket: Ticket) -> str | None:
    judgment = judgment_latest(ticket=ticket)
    return judgment.party if judgment else None
