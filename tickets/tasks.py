from celery import shared_task

from tickets.idempotency import idempotency_purge_expired


@shared_task(acks_late=True)
def purge_expired_idempotency_records() -> int:
    return idempotency_purge_expired()
