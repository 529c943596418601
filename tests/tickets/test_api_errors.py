"""Bad input is a 4xx with the one error body of API.md, never a 500, and stores nothing."""

import json

import pytest
from django.core.cache import cache

from shops.throttling import ShopKeyRateThrottle
from tests.factories import ticket_payload
from tickets.models import Customer, IdempotencyRecord, Order, OrderItem, Ticket, TicketEvent


def _counts():
    return (
        Ticket.objects.count(),
        Order.objects.count(),
        OrderItem.objects.count(),
        Customer.objects.count(),
        TicketEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.fixture
def nothing_created(db):
    """Asserts after the test that no ticket, order, customer, event or idempotency record was stored."""
    before = _counts()
    yield
    assert _counts() == before


def _assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def _without(path: str) -> dict:
    """The valid payload without one (possibly nested) key."""
    payload = ticket_payload()
    *parents, last = path.split(".")
    target = payload
    for parent in parents:
        target = target[parent]
    del target[last]
    return payload


def _with(path: str, value) -> dict:
    payload = ticket_payload()
    *parents, last = path.split(".")
    target = payload
    for parent in parents:
        target = target[int(parent)] if parent.isdigit() else target[parent]
    target[last] = value
    return payload


@pytest.mark.parametrize(
    "payload, fields",
    [
        (_without("dispute_type"), {"dispute_type": None}),
        (_without("customer.external_id"), {"customer": "external_id"}),
        (_without("order.order_no"), {"order": "order_no"}),
        (_without("customer"), {"customer": None}),
        (_without("order"), {"order": None}),
        (_with("dispute_type", "alien_abduction"), {"dispute_type": None}),
        (_with("dispute_type", ""), {"dispute_type": None}),
        (_with("colour", "red"), {"colour": None}),
        (_with("customer.age", 30), {"customer": "age"}),
        (_with("order.items.0.colour", "red"), {"order": "items"}),
        (_with("customer.phone", "call me maybe"), {"customer": "phone"}),
        (_with("channel", "pigeon"), {"channel": None}),
        (_with("order.paid_at", "last tuesday"), {"order": "paid_at"}),
        (_with("order.items.0.quantity", 0), {"order": "items"}),
        (_with("order.items.0.quantity", 2.5), {"order": "items"}),
        (_with("order.items", "GLASS-500"), {"order": "items"}),
        (_with("customer", None), {"customer": None}),
        (_with("customer.external_id", "a\x00b"), {"customer": "external_id"}),
        (
            _with("affected_items", [{"sku": "NOT-IN-ORDER", "quantity": 1}]),
            {"affected_items": "0"},
        ),
        (_with("affected_items", [{"sku": "GLASS-500", "quantity": 3}]), {"affected_items": "0"}),
        (
            _with(
                "affected_items", [{"sku": "GLASS-500", "quantity": 1}, {"sku": "X", "quantity": 1}]
            ),
            {"affected_items": "1"},
        ),
        (_with("affected_items", [1]), {"affected_items": None}),
        (_with("affected_items", [{"sku": "GLASS-500"}]), {"affected_items": None}),
    ],
)
def test_create_validation_error_names_the_field(shop_client, nothing_created, payload, fields):
    response = shop_client.post("/api/v1/tickets/", payload, format="json")
    error = _assert_error(response, 400, "validation_error")
    for field, nested in fields.items():
        assert field in error["fields"], error
        if nested is not None:
            assert nested in error["fields"][field], error


def test_all_missing_fields_are_reported_at_once(shop_client, nothing_created):
    payload = ticket_payload()
    del payload["dispute_type"]
    del payload["customer"]["external_id"]
    del payload["order"]["order_no"]
    payload["colour"] = "red"
    error = _assert_error(
        shop_client.post("/api/v1/tickets/", payload, format="json"), 400, "validation_error"
    )
    assert set(error["fields"]) == {"dispute_type", "customer", "order", "colour"}
    assert "external_id" in error["fields"]["customer"] and "order_no" in error["fields"]["order"]


@pytest.mark.parametrize(
    "amount", ["abc", "-1", "1.234", "NaN", "Infinity", "-0.01", "1e3x", "10000000000.00", True]
)
def test_bad_money_string_is_400(shop_client, nothing_created, amount):
    error = _assert_error(
        shop_client.post("/api/v1/tickets/", _with("order.amount", amount), format="json"),
        400,
        "validation_error",
    )
    assert "amount" in error["fields"]["order"]


@pytest.mark.parametrize("raw", ["10.505", "-1", "1e400", "0.001"])
def test_bad_money_json_number_is_400(shop_client, nothing_created, raw):
    body = json.dumps(ticket_payload()).replace('"10.50"', raw)
    response = shop_client.post("/api/v1/tickets/", body, content_type="application/json")
    error = _assert_error(response, 400, "validation_error")
    assert "unit_price" in error["fields"]["order"]["items"]["0"]


def test_json_number_21_5_is_exactly_21_50(shop_client):
    body = json.dumps(ticket_payload()).replace('"21.00"', "21.5").replace('"10.50"', "10.10")
    response = shop_client.post("/api/v1/tickets/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["order"]["amount"] == "21.50"
    assert (
        response.json()["order"]["items"][0]["unit_price"] == "10.10"
    )  # 10.1 as a float is 10.0999…


@pytest.mark.parametrize(
    "raw",
    [
        '{"dispute_type": "damaged_on_arrival",',
        "{'dispute_type': 'x'}",
        '{"dispute_type": NaN}',
        '{"order": {"amount": Infinity}}',
        b'{"description": "\xff"}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_malformed_json_is_400(shop_client, nothing_created, raw):
    response = shop_client.post("/api/v1/tickets/", raw, content_type="application/json")
    _assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    "raw", ["[]", '[{"dispute_type": "damaged_on_arrival"}]', '"ticket"', "42", "null"]
)
def test_non_object_json_is_400(shop_client, nothing_created, raw):
    response = shop_client.post("/api/v1/tickets/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"validation_error", "malformed_json"}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
def test_wrong_content_type_is_415(shop_client, nothing_created, content_type):
    response = shop_client.post(
        "/api/v1/tickets/", json.dumps(ticket_payload()), content_type=content_type
    )
    _assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/%00/",
        "/api/v1/tickets/%00/events/",
        "/api/v1/tickets/" + "X" * 5000 + "/",
        "/api/v1/tickets/%E2%98%83/",
    ],
)
def test_odd_ticket_numbers_are_404(shop_client, path):
    _assert_error(shop_client.get(path), 404, "not_found")


def test_method_not_allowed(shop_client, ticket):
    _assert_error(
        shop_client.delete(f"/api/v1/tickets/{ticket.number}/"), 405, "method_not_allowed"
    )
    _assert_error(shop_client.put("/api/v1/tickets/", {}, format="json"), 405, "method_not_allowed")


# --- schema, docs, unknown URLs --------------------------------------------------


def test_openapi_schema_and_docs(client, db):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert (
        "openapi" in text
        and "/api/v1/tickets/" in text
        and "/api/v1/tickets/{number}/transition/" in text
    )
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_unknown_api_url_is_json_404(client, db):
    response = client.get("/api/v1/nope/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert client.get("/api/v1/nope/").json() == {
        "error": {"code": "not_found", "message": "未找到。"}
    }


# --- throttling --------------------------------------------------------------------


@pytest.fixture
def three_per_minute(monkeypatch, shop_client):
    """The shop key may make 3 requests a minute; its counter starts and ends empty."""
    # SimpleRateThrottle copies the rates when the class is defined, so patch the class.
    monkeypatch.setattr(ShopKeyRateThrottle, "THROTTLE_RATES", {"shop_key": "3/min"})
    prefix = shop_client._credentials["HTTP_AUTHORIZATION"].split()[1].split(".")[0]
    key = ShopKeyRateThrottle.cache_format % {"scope": "shop_key", "ident": prefix}
    # Only this key's counter: the Redis cache is shared with other test runs.
    cache.delete(key)
    yield
    cache.delete(key)


def test_fourth_request_in_a_minute_is_429(
    shop_client, other_shop_client, agent_client, three_per_minute, ticket
):
    for _ in range(3):
        assert shop_client.get("/api/v1/tickets/").status_code == 200
    response = shop_client.get(f"/api/v1/tickets/{ticket.number}/")
    _assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # counted per key: another shop and staff are not throttled by it
    assert other_shop_client.get("/api/v1/tickets/").status_code == 200
    for _ in range(4):
        assert agent_client.get("/api/v1/tickets/").status_code == 200


def test_throttled_create_creates_nothing(shop_client, three_per_minute, nothing_created):
    for _ in range(3):
        shop_client.get("/api/v1/tickets/")
    _assert_error(
        shop_client.post("/api/v1/tickets/", ticket_payload(), format="json"), 429, "throttled"
    )
