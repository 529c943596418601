from celery import shared_task
from django.conf import settings

from analytics import rollup


@shared_task(acks_late=True, ignore_result=True)
def refresh_stats() -> int:
    # Safe to run twice or concurrently: each run of days is one transaction under a per-shop
    # lock, and a shop another worker is refreshing is skipped. A backlog takes several ticks.
    return rollup.stats_refresh_all(budget_seconds=settings.ANALYTICS_REFRESH_BUDGET_SECONDS)
