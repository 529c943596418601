from celery import shared_task

from automation.engine import firing_due
from automation.sweep import automation_sweep


@shared_task(acks_late=True, ignore_result=True)
def sweep_rules(queue: str | None = None) -> int:
    return automation_sweep(queue=queue)


@shared_task(acks_late=True, ignore_result=True)
def fire_rules(firing_ids: list[int]) -> None:
    # Safe to run twice or after a crash: each firing is locked, checked and marked done in the
    # transaction that does its work.
    for firing_id in firing_ids:
        firing_due(firing_id=firing_id)
