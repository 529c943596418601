from celery import shared_task

from analytics import rollup


@shared_task(acks_late=True, ignore_result=True)
def refresh_stats() -> int:
    # Safe to run twice or concurrently: each run of days is one transaction under a per-shop lock.
    return rollup.stats_refresh_all()
