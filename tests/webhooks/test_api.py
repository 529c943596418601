import pytest

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True


def test_register_shows_secret_once(shop_client):
    response = shop_client.post(
        "/api/v1/webhooks/",
        {"url": "https://shop.example.com/hooks", "events": ["*"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["url"] == "https://shop.example.com/hooks"
    assert body["events"] == ["*"]

    listed = shop_client.get("/api/v1/webhooks/").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"url": "http://shop.example.com/hooks"}, "url"),  # plain http off loopback
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"url": "https://shop.example.com/h", "events": ["ticket.exploded"]}, "events"),
        ({"url": "https://shop.example.com/h", "events": []}, "events"),
        ({"url": "https://shop.example.com/h", "colour": "red"}, "colour"),
    ],
)
def test_register_bad_input_is_400_and_stores_nothing(shop_client, payload, field):
    response = shop_client.post("/api/v1/webhooks/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert WebhookEndpoint.objects.count() == 0


def test_loopback_http_refused_unless_allowed(shop_client, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = False
    assert (
        shop_client.post(
            "/api/v1/webhooks/", {"url": "http://127.0.0.1:9000/h"}, format="json"
        ).status_code
        == 400
    )
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    assert (
        shop_client.post(
            "/api/v1/webhooks/", {"url": "http://127.0.0.1:9000/h"}, format="json"
        ).status_code
        == 201
    )


def test_delete_deactivates_and_other_shop_gets_404(shop_client, other_shop_client):
    endpoint_id = shop_client.post(
        "/api/v1/webhooks/", {"url": "https://a.example.com/h"}, format="json"
    ).json()["id"]

    assert other_shop_client.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 404
    assert other_shop_client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries/").status_code == 404
    assert shop_client.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    assert shop_client.get("/api/v1/webhooks/").json()["results"] == []
    assert shop_client.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 404
    assert WebhookEndpoint.objects.get(pk=endpoint_id).active is False  # kept, with its log


def test_staff_token_cannot_manage_webhooks(agent_client):
    assert agent_client.get("/api/v1/webhooks/").status_code == 403


def test_deliveries_log_lists_each_attempt(shop_client, shop):
    endpoint_id = shop_client.post(
        "/api/v1/webhooks/", {"url": "https://a.example.com/h"}, format="json"
    ).json()["id"]
    event = WebhookEvent.objects.create(
        id="evt_x", shop=shop, type="ticket.created", data={}, created_at="2026-11-23T10:00:00Z"
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint_id=endpoint_id, next_attempt_at=event.created_at
    )
    WebhookAttempt.objects.create(
        delivery=delivery, attempted_at="2026-11-23T10:00:01Z", status_code=500, error="HTTP 500"
    )
    WebhookAttempt.objects.create(
        delivery=delivery, attempted_at="2026-11-23T10:00:40Z", status_code=200
    )

    results = shop_client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries/").json()["results"]
    assert [(r["event_id"], r["status_code"], r["error"]) for r in results] == [
        ("evt_x", 200, ""),
        ("evt_x", 500, "HTTP 500"),
    ]
    assert results[0]["attempted_at"].startswith(
        "2026-11-23T18:00:40"
    )  # shown in shop time (+08:00)


def test_a_removed_endpoint_gets_nothing_more_and_its_log_keeps_what_was_dropped(shop_client, shop):
    from webhooks.services import deliveries_due, delivery_attempt

    endpoint_id = shop_client.post(
        "/api/v1/webhooks/", {"url": "https://a.example.com/h"}, format="json"
    ).json()["id"]
    event = WebhookEvent.objects.create(
        id="evt_y", shop=shop, type="ticket.created", data={}, created_at="2026-11-23T10:00:00Z"
    )
    waiting = WebhookDelivery.objects.create(
        event=event, endpoint_id=endpoint_id, next_attempt_at=event.created_at
    )
    assert deliveries_due() == [waiting.pk]
    assert shop_client.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    waiting.refresh_from_db()
    assert waiting.status == WebhookDelivery.Status.DROPPED
    assert deliveries_due() == [] and delivery_attempt(delivery_id=waiting.pk) is None
    assert not WebhookAttempt.objects.filter(delivery=waiting).exists()  # nothing was sent


def test_a_delivery_written_as_its_endpoint_was_removed_is_dropped_not_sent(shop):
    from webhooks.services import delivery_attempt

    endpoint = WebhookEndpoint.objects.create(
        shop=shop, url="https://a.example.com/h", events=["*"], secret="s", active=False
    )
    event = WebhookEvent.objects.create(
        id="evt_z", shop=shop, type="ticket.created", data={}, created_at="2026-11-23T10:00:00Z"
    )
    late = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, next_attempt_at=event.created_at
    )
    assert delivery_attempt(delivery_id=late.pk) is None
    late.refresh_from_db()
    assert (
        late.status == WebhookDelivery.Status.DROPPED
        and not WebhookAttempt.objects.filter(delivery=late).exists()
    )
