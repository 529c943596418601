"""Time rules ("N hours after the ticket was created / last changed / entered its status") and
deferred replies, swept by beat like the SLA timers (sla.services.sweep): rows, never Celery ETAs.

1. **Scan** (per enabled time rule, its row locked with SKIP LOCKED so two sweeps split the
   rules): the shop's tickets whose field crossed `field + hours <= now` since the rule's
   watermark (`swept_until`), read through the (shop, field) index in batches — the cost follows
   the tickets that crossed since the last tick, not the size of the table. Those matching the
   conditions get a pending RuleFiring; the unique (rule, version, ticket) constraint makes that
   at most once per rule version and ticket, whatever sweeps overlap.
2. **Claim** due pending firings (time rules' and deferred replies') with SKIP LOCKED and enqueue
   them after commit; the task (automation.engine.firing_due) locks, re-checks, acts and marks
   done in one transaction. A reaper frees claims a killed worker left.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from aftersales import claims
from automation.facts import Facts, compile_conditions, compiled_match, with_message_facts
from automation.models import Event, FiringState, Rule, RuleFiring
from tickets.models import Ticket

# A new rule version looks back this far: tickets that crossed its mark in the last week act.
LOOKBACK = dt.timedelta(days=7)
SCAN_BATCH = 500
MAX_SCAN_BATCHES_PER_RULE = 20
CLAIM_BATCH = 500
MAX_CLAIM_BATCHES = 20
TASK_CHUNK = 100


def _scan_rule(rule: Rule, *, now: dt.datetime, batch: int) -> int:
    field = rule.after_field
    high = now - dt.timedelta(hours=rule.after_hours)
    low = rule.swept_until or (high - LOOKBACK)
    created = 0
    compiled = compile_conditions(rule.conditions)
    base = (
        with_message_facts(Ticket.objects.all(), compiled)
        .filter(shop_id=rule.shop_id, **{f"{field}__lte": high})
        .select_related("order", "customer", "dispute_type", "assignee")
        .prefetch_related("tags", "order__items")
        .order_by(field, "id")
    )
    for _ in range(MAX_SCAN_BATCHES_PER_RULE):
        rows = list(base.filter(**{f"{field}__gte": low})[:batch])
        matched = [t for t in rows if compiled_match(compiled, Facts(t))]
        if matched:
            made = RuleFiring.objects.bulk_create(
                [
                    RuleFiring(
                        rule=rule,
                        version=rule.version,
                        ticket_id=t.pk,
                        event=Event.TIME,
                        state=FiringState.PENDING,
                        due_at=now,
                        pending_actions=list(rule.actions),
                    )
                    for t in matched
                ],
                ignore_conflicts=True,  # already fired (or waiting) for this version: once
            )
            created += len(made)
        if len(rows) < batch:
            low = high
            break
        low = getattr(rows[-1], field)  # ties at `low` are read again; the constraint keeps once
    rule.swept_until = low
    rule.save(update_fields=["swept_until"])
    return created


def time_rules_scan(*, now: dt.datetime, batch: int = SCAN_BATCH) -> int:
    """Pending firings for the tickets that crossed a time rule's mark. Returns how many."""
    total = 0
    ids = Rule.objects.filter(event=Event.TIME, enabled=True, deleted_at__isnull=True).values_list(
        "id", flat=True
    )
    for rule_id in list(ids):
        with transaction.atomic():
            rule = (
                Rule.objects.select_for_update(skip_locked=True)
                .filter(pk=rule_id, enabled=True, deleted_at__isnull=True)
                .first()
            )
            if rule is not None:
                total += _scan_rule(rule, now=now, batch=batch)
    return total


def firings_reap(*, now: dt.datetime, timeout_seconds: int | None = None) -> int:
    """Claims older than the timeout go back to pending (their task was lost or killed)."""
    return claims.rows_reap(RuleFiring, now=now, timeout_seconds=timeout_seconds)


def _enqueue(ids: list[int], queue: str | None) -> None:
    from automation.tasks import fire_rules

    claims.rows_enqueue(RuleFiring, ids, task=fire_rules, chunk=TASK_CHUNK, queue=queue)


def automation_sweep(
    *, now: dt.datetime | None = None, queue: str | None = None, enqueue=None
) -> int:
    """One beat tick: reap, scan the time rules, claim what is due. Returns how many claimed."""
    now = now or timezone.now()
    enqueue = enqueue or (lambda ids: _enqueue(ids, queue))
    firings_reap(now=now)
    time_rules_scan(now=now)
    return claims.rows_claim_all_due(
        RuleFiring, now=now, batch=CLAIM_BATCH, max_batches=MAX_CLAIM_BATCHES, enqueue=enqueue
    )
