from celery import shared_task

from sla import services


@shared_task(acks_late=True, ignore_result=True)
def sweep_timers(queue: str | None = None) -> int:
    return services.timers_sweep(queue=queue)


@shared_task(acks_late=True, ignore_result=True)
def fire_timers(timer_ids: list[int]) -> None:
    # Safe to run twice or after a crash: each timer is locked, checked and marked done in
    # the transaction that does its work, so a second run finds it done.
    services.timers_fire(timer_ids=timer_ids)
