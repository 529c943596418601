"""The sweep: claim due timer rows with SKIP LOCKED, enqueue them after commit, and the
reaper that frees rows a killed task left claimed."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sla.models import Timer, TimerState

logger = logging.getLogger(__name__)


MAX_BATCHES_PER_TICK = 50


# --- the sweep ----------------------------------------------------------------------


def timers_claim_due(*, now: dt.datetime, limit: int, enqueue=None) -> list[int]:
    """Claim up to `limit` due pending timers and hand their ids to `enqueue` once the claim
    has committed. Rows another sweep holds are skipped, not waited for."""
    with transaction.atomic():
        ids = list(
            Timer.objects.select_for_update(skip_locked=True)
            .filter(state=TimerState.PENDING, due_at__lte=now)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Timer.objects.filter(pk__in=ids).update(
                state=TimerState.CLAIMED, claimed_at=now, attempts=F("attempts") + 1
            )
            if enqueue is not None:
                # robust: with the broker down the claims stay for the reaper; the sweep itself succeeds.
                transaction.on_commit(lambda: enqueue(ids), robust=True)
    return ids


def timers_release(*, ids: list[int]) -> int:
    """Put claims back (their tasks could not be enqueued)."""
    return Timer.objects.filter(pk__in=ids, state=TimerState.CLAIMED).update(
        state=TimerState.PENDING, claimed_at=None
    )


def timers_reap(*, now: dt.datetime, timeout_seconds: int | None = None) -> int:
    """Claims older than the timeout go back to pending: their task was lost (broker restart,
    worker killed). If the task is merely slow, its row lock makes this wait, and a task that
    finished meanwhile has marked the row done, which this no longer matches."""
    timeout = dt.timedelta(
        seconds=settings.SLA_CLAIM_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    )
    return Timer.objects.filter(state=TimerState.CLAIMED, claimed_at__lt=now - timeout).update(
        state=TimerState.PENDING, claimed_at=None
    )


def _enqueue(ids: list[int], queue: str | None) -> None:
    from sla.tasks import fire_timers

    chunk = settings.SLA_TASK_CHUNK
    for start in range(0, len(ids), chunk):
        try:
            fire_timers.apply_async(args=[ids[start : start + chunk]], queue=queue, retry=False)
        except Exception:  # broker down: give the rest back now instead of waiting for the reaper
            released = timers_release(ids=ids[start:])
            logger.warning(
                "broker unavailable: %d claimed timers released", released, exc_info=True
            )
            return


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
    total = 0
    for _batch in range(MAX_BATCHES_PER_TICK):
        ids = timers_claim_due(now=now, limit=batch, enqueue=enqueue)
        total += len(ids)
        if len(ids) < batch:
            break
    return total
