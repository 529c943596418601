"""Text no field can hold — NUL bytes, lone surrogates, absurd nesting — is a clear 400 at the
door, never a 500 from the database (the cases a fuzzer found)."""

import json

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import staff_member, ticket_payload


@pytest.fixture
def supervisor_token(shop, client):
    user = staff_member(shop, "supervisor", username="supervisor")
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/analytics/summary/?dispute_type=%00",
        "/api/v1/tickets/?order_no=a%00b",
        "/api/v1/alerts/?status=%00",
    ],
)
def test_nul_in_a_query_string_is_a_400(client, supervisor_token, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en", **supervisor_token)
    assert response.status_code == 400
    assert (
        response.json()["error"]["code"] == "validation_error"
        and "NUL" in response.json()["error"]["message"]
    )


def test_nul_in_the_workspace(shop, client):
    client.force_login(staff_member(shop, "supervisor", username="supervisor"))
    # A page's filter loses the character, as a search box would.
    assert client.get("/analytics/?dispute_type=%00").status_code == 200
    # A path with one names no page.
    assert client.get("/survey/abc%00def/").status_code == 404
    # A form post is refused, saying why.
    refused = client.post("/survey/abc/", {"score": "5", "comment": "好\x00"})
    assert refused.status_code == 400 and 'data-testid="error-page"' in refused.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        '{"description": "bad \\u0000 byte"}',
        '{"\\ud800": 1}',
        '{"description": "\\udfff"}',
    ],
)
def test_nul_and_lone_surrogates_in_json_are_a_400(shop_client, body):
    payload = ticket_payload()
    extra = json.loads(body)
    text = json.dumps({**payload, **extra}) if "\\ud800" not in body else body
    response = shop_client.generic(
        "POST", "/api/v1/tickets/", text, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == (["non_field_errors"] if "\\ud800" in body else ["description"])


def test_deep_nesting_is_a_400(shop, token_client):
    admin = token_client(staff_member(shop, "admin", username="boss"))
    body = '{"targets": ' + "[" * 600 + "]" * 600 + "}"
    response = admin.generic(
        "PUT", "/api/v1/shops/demo/sla/", body, content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["from=9999-12-31", "to=9999-12-31", "from=0001-01-01"])
def test_absurd_dates_on_the_summary_are_a_400(client, supervisor_token, query):
    response = client.get(f"/api/v1/analytics/summary/?{query}", **supervisor_token)
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


def test_an_empty_put_of_the_sla_settings_changes_nothing(shop, token_client):
    admin = token_client(staff_member(shop, "admin", username="boss"))
    assert (
        admin.patch(
            "/api/v1/shops/demo/sla/", {"max_contacts_per_day": 1}, format="json"
        ).status_code
        == 200
    )
    response = admin.put("/api/v1/shops/demo/sla/", {}, format="json")
    assert response.status_code == 400
    shop.refresh_from_db()
    assert shop.sla_settings["max_contacts_per_day"] == 1


@pytest.mark.parametrize(
    "amount",
    ["１０.５０", "١٠.٥٠", "1_000.00", "-0.00", "+5.00", " 5.00x", "1e3", "0x10", "5.", ".5"],
)
def test_money_text_is_ascii_digits_only(shop_client, amount):
    payload = ticket_payload()
    payload["order"]["items"][0]["unit_price"] = amount
    response = shop_client.post("/api/v1/tickets/", payload, format="json")
    assert response.status_code == 400, (amount, response.content)
    assert "unit_price" in response.json()["error"]["fields"]["order"]["items"]["0"]


@pytest.mark.parametrize("raw", ["1e-999999", "-0.0", "1E+20"])
def test_money_json_numbers_with_absurd_exponents_or_signs_are_refused(shop_client, raw):
    body = json.dumps(ticket_payload()).replace('"10.50"', raw)
    response = shop_client.generic(
        "POST", "/api/v1/tickets/", body, content_type="application/json"
    )
    assert response.status_code == 400, (raw, response.content)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59+08:00",
        "2026-11-20",
        "2026-11-20T10:00:00",
        "2026-W48-1T10:00:00+08:00",
        "2026-11-20T10:00:00+0800x",
        1700000000,
        "yesterday",
    ],
)
def test_moments_need_a_date_a_time_an_offset_and_a_sane_year(shop_client, value):
    payload = ticket_payload(platform_deadline_at=value)
    response = shop_client.post("/api/v1/tickets/", payload, format="json")
    assert response.status_code == 400, (value, response.content)
    assert "platform_deadline_at" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "value", ["2026-11-20T10:00:00+08:00", "2026-11-20T02:00:00Z", "2026-11-20 10:00+0800"]
)
def test_well_formed_moments_are_accepted(shop_client, value):
    assert (
        shop_client.post(
            "/api/v1/tickets/", ticket_payload(platform_deadline_at=value), format="json"
        ).status_code
        == 201
    )


def test_an_oversized_body_is_a_json_413(shop_client):
    body = json.dumps({**ticket_payload(), "description": "x" * (13 * 1024 * 1024)})
    response = shop_client.generic(
        "POST", "/api/v1/tickets/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("field, size", [("items", 201), ("affected", 201)])
def test_collections_are_bounded(shop_client, field, size):
    payload = ticket_payload()
    if field == "items":
        payload["order"]["items"] = [
            dict(payload["order"]["items"][0], sku=f"S{n}") for n in range(size)
        ]
    else:
        payload["affected_items"] = [{"sku": "GLASS-500", "quantity": 1}] * size
    response = shop_client.post("/api/v1/tickets/", payload, format="json")
    assert response.status_code == 400, response.content[:200]


def test_webhook_event_lists_are_bounded(shop_client):
    response = shop_client.post(
        "/api/v1/webhooks/",
        {"url": "https://shop.example/h", "events": ["ticket.created"] * 21},
        format="json",
    )
    assert response.status_code == 400 and "events" in response.json()["error"]["fields"]
