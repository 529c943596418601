from celery import shared_task

from webhooks import services


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    # Safe to run twice: the delivery row is claimed before sending, and a
    # delivered or not-yet-due row is skipped.
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhooks(delivery_ids: list[int]) -> dict[str, int]:
    # A batch of deliveries (services.events_emit, or the sweep's per endpoint), one after the
    # other; each is claimed before sending, so a redelivery or an overlapping sweep sends each
    # once, and an endpoint that fails is not tried again in the batch.
    return services.deliveries_send(delivery_ids=delivery_ids)


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhook_deliveries() -> int:
    batches = services.deliveries_due_by_endpoint()
    for ids in batches:
        deliver_webhooks.delay(ids)
    return sum(len(ids) for ids in batches)
