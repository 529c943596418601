"""The sweep: claim due timer rows with SKIP LOCKED, enqueue them after commit, and the
reaper that frees rows a killed task left claimed."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from aftersales import claims
from sla.models import Timer

MAX_BATCHES_PER_TICK = 50


# --- the sweep ----------------------------------------------------------------------


def timers_claim_due(*, now: dt.datetime, limit: int, enqueue=None) -> list[int]:
    """Claim up to `limit` due pending timers (aftersales.claims)."""
    return claims.rows_claim_due(Timer, now=now, limit=limit, enqueue=enqueue)


def timers_release(*, ids: list[int]) -> int:
    return claims.rows_release(Timer, ids=ids)


def timers_reap(*, now: dt.datetime, timeout_seconds: int | None = None) -> int:
    return claims.rows_reap(Timer, now=now, timeout_seconds=timeout_seconds)


def _enqueue(ids: list[int], queue: str | None) -> None:
    from sla.tasks import fire_timers

    claims.rows_enqueue(Timer, ids, task=fire_timers, chunk=settings.SLA_TASK_CHUNK, queue=queue)


def timers_sweep(
    *,
    now: dt.datetime | None = None,
    queue: str | None = None,
    batch: int | None = None,
    enqueue=None,
) -> int:
    """One beat tick: reap stale claims, then claim due timers in batches; each batch's tasks
    are enqueued after its claim committed. Returns how many timers were claimed."""
    now = now or timezone.now()
    batch = batch or settings.SLA_SWEEP_BATCH
    enqueue = enqueue or (lambda ids: _enqueue(ids, queue))
    timers_reap(now=now)
    return claims.rows_claim_all_due(
        Timer, now=now, batch=batch, max_batches=MAX_BATCHES_PER_TICK, enqueue=enqueue
    )
