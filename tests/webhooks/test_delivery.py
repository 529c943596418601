import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from tests.factories import ShopFactory
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True


def _endpoint(shop, url, events=("*",)):
    return services.endpoint_create(shop=shop, url=url, events=list(events))


def _emit(shop, django_capture_on_commit_callbacks, type="ticket.created", data=None):
    # The after-commit hook would enqueue a Celery task; the tests run the delivery themselves.
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        event = services.event_emit(shop=shop, type=type, data=data or {"number": "AS1"})
    assert len(callbacks) == 1
    return event


def test_signature_round_trip_and_tamper():
    body = b'{"id":"evt_1"}'
    header = services.signature_header(secret="s3", body=body, timestamp=1_700_000_000)
    assert services.signature_valid(secret="s3", header=header, body=body, now=1_700_000_010)
    assert not services.signature_valid(
        secret="s3", header=header, body=body + b" ", now=1_700_000_010
    )
    assert not services.signature_valid(secret="other", header=header, body=body, now=1_700_000_010)
    assert not services.signature_valid(
        secret="s3", header=header, body=body, now=1_700_000_000 + 3600
    )  # stale


def test_receiver_verifies_signature_and_gets_event(db, django_capture_on_commit_callbacks):
    shop = ShopFactory(code="hooks")
    with Receiver() as receiver:
        endpoint = _endpoint(shop, receiver.url)
        receiver.secret = endpoint.secret
        event = _emit(
            shop, django_capture_on_commit_callbacks, data={"number": "AS9", "amount": "10.50"}
        )
        delivery = WebhookDelivery.objects.get(event=event)

        assert services.delivery_attempt(delivery_id=delivery.pk) == "delivered"

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["signature_ok"] is True
    assert got["event"] == {
        "id": event.id,
        "type": "ticket.created",
        "created_at": event.created_at.isoformat(),
        "data": {"number": "AS9", "amount": "10.50"},
    }


def test_500_then_200_delivers_once_recovered_and_logs_both(db, django_capture_on_commit_callbacks):
    shop = ShopFactory(code="hooks")
    with Receiver(responses=[500]) as receiver:
        endpoint = _endpoint(shop, receiver.url)
        receiver.secret = endpoint.secret
        event = _emit(shop, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get(event=event)

        assert services.delivery_attempt(delivery_id=delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert delivery.attempts == 1
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)
        # Not due yet: a second worker (or a redelivered task) sends nothing.
        assert services.delivery_attempt(delivery_id=delivery.pk) is None
        assert services.deliveries_due() == []

        with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=True):
            assert services.deliveries_due() == [delivery.pk]
            assert services.delivery_attempt(delivery_id=delivery.pk) == "delivered"
        # Delivered: a retried task does not send again.
        assert services.delivery_attempt(delivery_id=delivery.pk) is None

    assert [r["status"] for r in receiver.received] == [500, 200]
    assert {r["event"]["id"] for r in receiver.received} == {event.id}
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", "error")
    ) == [
        (500, "HTTP 500"),
        (200, ""),
    ]


def test_unreachable_receiver_is_retried_then_failed_after_24h(
    db, django_capture_on_commit_callbacks
):
    shop = ShopFactory(code="hooks")
    endpoint = _endpoint(shop, "http://127.0.0.1:9/nothing-listens")
    event = _emit(shop, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)

    assert services.delivery_attempt(delivery_id=delivery.pk) == "pending"
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and attempt.error == "connection_refused"

    with time_machine.travel(
        event.created_at + timedelta(hours=23, minutes=59, seconds=50), tick=False
    ):
        assert services.delivery_attempt(delivery_id=delivery.pk) == "failed"
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2


def test_crashed_worker_claim_expires_and_another_worker_delivers(
    db, django_capture_on_commit_callbacks
):
    shop = ShopFactory(code="hooks")
    with Receiver() as receiver:
        endpoint = _endpoint(shop, receiver.url)
        event = _emit(shop, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get(event=event)
        # A worker claimed it and died before sending.
        assert services._claim(delivery.pk, timezone.now()) is not None
        assert services.delivery_attempt(delivery_id=delivery.pk) is None
        assert services.deliveries_due() == []

        with time_machine.travel(
            timezone.now() + timedelta(seconds=services.CLAIM_SECONDS + 1), tick=True
        ):
            assert services.deliveries_due() == [delivery.pk]
            assert services.delivery_attempt(delivery_id=delivery.pk) == "delivered"
    assert len(receiver.received) == 1
    assert endpoint.deliveries.get().status == "delivered"


def test_concurrent_workers_send_a_delivery_once(transactional_db):
    shop = ShopFactory(code="hooks")
    with Receiver() as receiver:
        _endpoint(shop, receiver.url)
        with transaction.atomic():
            event = services.event_emit(shop=shop, type="ticket.created", data={})
        delivery_id = WebhookDelivery.objects.get(event=event).pk
        barrier = threading.Barrier(4)
        results = []

        def worker():
            barrier.wait()
            try:
                results.append(services.delivery_attempt(delivery_id=delivery_id))
            finally:
                from django.db import connection

                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(receiver.received) == 1
    assert sorted(results, key=str) == [None, None, None, "delivered"]


def test_only_subscribed_active_endpoints_get_events(db, django_capture_on_commit_callbacks):
    shop = ShopFactory(code="hooks")
    all_events = _endpoint(shop, "https://a.example.com/h")
    only_status = _endpoint(shop, "https://b.example.com/h", events=["ticket.status_changed"])
    gone = _endpoint(shop, "https://c.example.com/h")
    services.endpoint_deactivate(endpoint=gone)
    other_shop_endpoint = _endpoint(ShopFactory(code="else"), "https://d.example.com/h")

    event = _emit(shop, django_capture_on_commit_callbacks, type="ticket.created")

    assert set(
        WebhookDelivery.objects.filter(event=event).values_list("endpoint_id", flat=True)
    ) == {all_events.pk}
    assert (
        WebhookEndpoint.objects.filter(
            pk__in=[only_status.pk, other_shop_endpoint.pk], deliveries__isnull=False
        ).count()
        == 0
    )


def test_no_endpoint_no_event(db):
    assert (
        services.event_emit(shop=ShopFactory(code="quiet"), type="ticket.created", data={}) is None
    )


def test_ticket_changes_are_announced(db, django_capture_on_commit_callbacks):
    from tests.factories import make_ticket, staff_member
    from tickets import services as ticket_services
    from webhooks.models import WebhookEvent

    shop = ShopFactory(code="hooks")
    _endpoint(shop, "https://shop.example.com/h")
    agent = staff_member(shop, "agent")
    with django_capture_on_commit_callbacks(execute=False):
        ticket = make_ticket(shop)
        ticket_services.ticket_transition(
            ticket=ticket, action="open", actor=ticket_services.Actor.staff(agent)
        )

    created, changed = WebhookEvent.objects.order_by("created_at")
    assert (created.type, created.data["number"], created.data["status"]) == (
        "ticket.created",
        ticket.number,
        "new",
    )
    assert changed.type == "ticket.status_changed"
    assert {k: changed.data[k] for k in ("number", "from", "to", "action", "by")} == {
        "number": ticket.number,
        "from": "new",
        "to": "open",
        "action": "open",
        "by": agent.username,
    }


def test_an_endpoint_that_fails_is_tried_once_per_batch_and_the_others_still_get_theirs(
    db, django_capture_on_commit_callbacks
):
    shop = ShopFactory(code="hooks")
    with Receiver() as receiver:
        good = _endpoint(shop, receiver.url)
        down = _endpoint(shop, "http://127.0.0.1:9/nothing-listens")
        for n in range(3):
            _emit(shop, django_capture_on_commit_callbacks, data={"number": f"AS{n}"})
        ids = list(
            WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True)
        )  # good, down, good, down, ...
        assert len(ids) == 6

        counts = services.deliveries_send(delivery_ids=ids)

    assert counts == {"delivered": 3, "pending": 1, "failed": 0, "skipped": 0, "held": 2}
    assert len(receiver.received) == 3 and good.deliveries.filter(status="delivered").count() == 3
    tried = down.deliveries.get(attempts=1)
    held = down.deliveries.filter(attempts=0)
    assert (
        WebhookAttempt.objects.filter(delivery__endpoint=down).count() == 1
    )  # one connection refused, not three
    assert held.count() == 2 and all(
        d.next_attempt_at == tried.next_attempt_at and d.status == "pending" for d in held
    )
    assert services.deliveries_due() == []  # nothing due until the failed one's retry


def test_the_sweep_hands_each_endpoint_its_own_batches(db, django_capture_on_commit_callbacks):
    shop = ShopFactory(code="hooks")
    first = _endpoint(shop, "https://a.example.com/h")
    second = _endpoint(shop, "https://b.example.com/h")
    for n in range(3):
        _emit(shop, django_capture_on_commit_callbacks, data={"number": f"AS{n}"})
    batches = services.deliveries_due_by_endpoint(batch=2)
    endpoint_of = dict(WebhookDelivery.objects.values_list("pk", "endpoint_id"))
    assert sorted(len(b) for b in batches) == [1, 1, 2, 2]
    assert all(len({endpoint_of[pk] for pk in batch}) == 1 for batch in batches)
    assert {endpoint_of[pk] for batch in batches for pk in batch} == {first.pk, second.pk}
