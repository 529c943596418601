"""SSRF: a shop cannot point its webhooks into our network, whatever form the address takes,
at registration or at delivery (the socket's address is checked, so DNS rebinding and redirects
do not help), and the delivery log says what went wrong in a short category, never the raw
exception that would map our open ports."""

import pytest
from django.utils import timezone

from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

INTERNAL = [
    "https://127.0.0.1/h",
    "https://localhost/h",
    "https://127.1/h",
    "https://2130706433/h",
    "https://0x7f000001/h",
    "https://0177.0.0.1/h",
    "https://[::1]/h",
    "https://[::ffff:127.0.0.1]/h",
    "https://0.0.0.0/h",
    "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.5/h",
    "https://172.16.3.4/h",
    "https://192.168.1.1/h",
    "https://100.64.0.1/h",
    "https://[fd00::1]/h",
    "https://[fe80::1]/h",
]


@pytest.fixture
def no_loopback(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = False


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_at_registration(shop_client, no_loopback, url):
    response = shop_client.post(
        "/api/v1/webhooks/", {"url": url}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400, (url, response.content)
    assert "url" in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw@shop.example/h",
        "https://token@shop.example/h",
        "ftp://shop.example/h",
        "http://shop.example/h",
        "https://[::1/h",
        "https:///h",
    ],
)
def test_userinfo_other_schemes_and_broken_urls_are_refused(shop_client, no_loopback, url):
    response = shop_client.post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400, (url, response.content)


@pytest.mark.parametrize("url", ["https://8.8.8.8/hooks", "https://shop.example/hooks"])
def test_public_and_not_yet_resolvable_urls_are_accepted(shop_client, no_loopback, url):
    assert shop_client.post("/api/v1/webhooks/", {"url": url}, format="json").status_code == 201


def _delivery(shop, url):
    endpoint = WebhookEndpoint.objects.create(shop=shop, url=url, events=["*"], secret="s")
    event = WebhookEvent.objects.create(
        id=WebhookEvent.new_id(),
        shop=shop,
        type="ticket.created",
        data={},
        created_at=timezone.now(),
    )
    return WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, next_attempt_at=event.created_at
    )


def test_a_delivery_to_an_internal_address_is_blocked_when_it_connects(shop, no_loopback):
    # Registered earlier, or a name that now resolves inside (DNS rebinding): checked at connect time.
    with Receiver() as receiver:
        delivery = _delivery(shop, receiver.url.replace("127.0.0.1", "localhost"))
        assert services.delivery_attempt(delivery_id=delivery.pk) == "pending"
    assert receiver.received == []
    assert WebhookAttempt.objects.get(delivery=delivery).error == "blocked_address"


def test_redirects_are_not_followed(shop, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    with Receiver(responses=[302]) as receiver:
        delivery = _delivery(shop, receiver.url)
        assert services.delivery_attempt(delivery_id=delivery.pk) == "pending"
    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.get(delivery=delivery).error == "HTTP 302"


def test_failures_are_logged_as_categories_not_exception_text(shop, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    delivery = _delivery(shop, "http://127.0.0.1:9/nothing-listens")
    services.delivery_attempt(delivery_id=delivery.pk)
    assert WebhookAttempt.objects.get(delivery=delivery).error == "connection_refused"
