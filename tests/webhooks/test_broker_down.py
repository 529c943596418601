"""With the broker down, work that committed is answered as done: the after-commit enqueue is
robust (the outbox row and the beat sweep guarantee delivery later)."""

import pytest
from kombu import pools as kombu_pools

from aftersales.celery import app
from tests.factories import ticket_payload
from tickets.models import Ticket
from webhooks.models import WebhookDelivery, WebhookEndpoint


@pytest.fixture
def broker_down():
    """Point Celery at a port nobody listens on, publishing without retries (a real connection
    refused, not a stub)."""
    keys = (
        "broker_url",
        "broker_write_url",
        "broker_connection_retry",
        "task_publish_retry",
        "broker_connection_timeout",
    )
    saved = {key: app.conf[key] for key in keys}
    nowhere = "redis://127.0.0.1:1/0"
    app.conf.update(
        broker_url=nowhere,
        broker_write_url=nowhere,
        broker_connection_retry=False,
        task_publish_retry=False,
        broker_connection_timeout=1,
    )
    _reset_pools()
    yield
    app.conf.update(saved)
    _reset_pools()


def _reset_pools():
    """Drop the cached broker connections so the next publish connects with the current URL."""
    kombu_pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_a_create_answers_201_while_the_broker_is_down(
    shop, shop_client, broker_down, django_capture_on_commit_callbacks, caplog
):
    WebhookEndpoint.objects.create(
        shop=shop, url="https://shop.example/hook", events=["*"], secret="s"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = shop_client.post("/api/v1/tickets/", ticket_payload(), format="json")
    assert response.status_code == 201, response.content
    assert Ticket.objects.filter(number=response.json()["number"]).exists()
    # The delivery waits in the outbox for the beat sweep.
    delivery = WebhookDelivery.objects.get(event__type="ticket.created")
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert any(
        "Error calling" in r.getMessage() and "on_commit" in r.getMessage() for r in caplog.records
    )  # logged, not raised
