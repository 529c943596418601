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


@pytest.mark.parametrize("url", ["/api/v1/analytics/summary/?dispute_type=%00", "/api/v1/tickets/?order_no=a%00b",
                                 "/api/v1/alerts/?status=%00"])
def test_nul_in_a_query_string_is_a_400(client, supervisor_token, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en", **supervisor_token)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error" and "NUL" in response.json()["error"]["message"]


def test_nul_in_the_workspace(shop, client):
    client.force_login(staff_member(shop, "supervisor", username="supervisor"))
    # A page's filter loses the character, as a search box would.
    assert client.get("/analytics/?dispute_type=%00").status_code == 200
    # A path with one names no page.
    assert client.get("/survey/abc%00def/").status_code == 404
    # A form post is refused, saying why.
    refused = client.post("/survey/abc/", {"score": "5", "comment": "好\x00"})
    assert refused.status_code == 400 and 'data-testid="error-page"' in refused.content.decode()


@pytest.mark.parametrize("body", [
    '{"description": "bad \\u0000 byte"}',
    '{"\\ud800": 1}',
    '{"description": "\\udfff"}',
])
def test_nul_and_lone_surrogates_in_json_are_a_400(shop_client, body):
    payload = ticket_payload()
    extra = json.loads(body)
    text = json.dumps({**payload, **extra}) if "\\ud800" not in body else body
    response = shop_client.generic("POST", "/api/v1/tickets/", text, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == (["non_field_errors"] if "\\ud800" in body else ["description"])


def test_deep_nesting_is_a_400(shop, token_client):
    admin = token_client(staff_member(shop, "admin", username="boss"))
    body = '{"targets": ' + "[" * 600 + "]" * 600 + "}"
    response = admin.generic("PUT", "/api/v1/shops/demo/sla/", body, content_type="application/json")
    assert response.status_code == 400
