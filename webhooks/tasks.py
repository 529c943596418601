from celery import shared_task

from webhooks import services


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    # Safe to run twice: the delivery row is claimed before sending, and a
    # delivered or not-yet-due row is skipped.
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhooks(delivery_ids: list[int]) -> None:
    # The deliveries of a batch of events (services.events_emit), one after the other; each is
    # claimed before sending, so a redelivery or the beat sweep overlapping sends each once.
    for delivery_id in delivery_ids:
        services.delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhook_deliveries() -> int:
    due = services.deliveries_due()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)
