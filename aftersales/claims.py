"""Rows as a work queue (the SLA timers, the automation rules' firings): each row has `state`
(pending → claimed → …), `due_at`, `claimed_at` and `attempts`. Beat claims what is due with SKIP
LOCKED, hands the ids to Celery once the claim has committed, gives claims back when the broker is
down, and reaps claims whose task was lost. One mechanism, so both queues behave alike."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Model

logger = logging.getLogger(__name__)
PENDING, CLAIMED = "pending", "claimed"


def rows_claim_due(model: type[Model], *, now: dt.datetime, limit: int, enqueue=None) -> list[int]:
    """Claim up to `limit` due pending rows and hand their ids to `enqueue` once the claim has
    committed. Rows another sweep holds are skipped, not waited for."""
    with transaction.atomic():
        ids = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(state=PENDING, due_at__lte=now)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            model.objects.filter(pk__in=ids).update(
                state=CLAIMED, claimed_at=now, attempts=F("attempts") + 1
            )
            if enqueue is not None:
                # robust: with the broker down the claims stay for the reaper; the sweep succeeds.
                transaction.on_commit(lambda: enqueue(ids), robust=True)
    return ids


def rows_claim_all_due(
    model: type[Model], *, now: dt.datetime, batch: int, max_batches: int, enqueue
) -> int:
    """rows_claim_due in batches of `batch` until a batch comes back short (or `max_batches`
    were claimed): one beat tick's claims. Returns how many rows were claimed."""
    total = 0
    for _ in range(max_batches):
        ids = rows_claim_due(model, now=now, limit=batch, enqueue=enqueue)
        total += len(ids)
        if len(ids) < batch:
            break
    return total


def rows_release(model: type[Model], *, ids: list[int]) -> int:
    """Put claims back (their tasks could not be enqueued)."""
    return model.objects.filter(pk__in=ids, state=CLAIMED).update(state=PENDING, claimed_at=None)


def rows_reap(model: type[Model], *, now: dt.datetime, timeout_seconds: int | None = None) -> int:
    """Claims older than the timeout go back to pending: their task was lost (broker restart,
    worker killed). If the task is merely slow, its row lock makes this wait, and a task that
    finished meanwhile has marked the row done, which this no longer matches."""
    timeout = dt.timedelta(
        seconds=settings.SLA_CLAIM_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    )
    return model.objects.filter(state=CLAIMED, claimed_at__lt=now - timeout).update(
        state=PENDING, claimed_at=None
    )


def rows_enqueue(
    model: type[Model], ids: list[int], *, task, chunk: int, queue: str | None
) -> None:
    """One task per chunk of ids; when the broker is down the rest are given back at once instead
    of waiting for the reaper."""
    for start in range(0, len(ids), chunk):
        try:
            task.apply_async(args=[ids[start : start + chunk]], queue=queue, retry=False)
        except Exception:
            released = rows_release(model, ids=ids[start:])
            logger.warning(
                "broker unavailable: %d claimed %s released",
                released,
                model._meta.verbose_name_plural,
                exc_info=True,
            )
            return
