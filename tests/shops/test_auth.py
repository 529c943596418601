"""Shop API keys and staff tokens (API.md, Authentication)."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shops.models import ShopAPIKey
from tests.factories import api_key_for

PROTECTED = [
    ("get", "/api/v1/tickets/"),
    ("post", "/api/v1/tickets/"),
    ("get", "/api/v1/tickets/AS000000NOPE22/"),
    ("get", "/api/v1/tickets/AS000000NOPE22/events/"),
    ("post", "/api/v1/tickets/AS000000NOPE22/messages/"),
    ("post", "/api/v1/tickets/AS000000NOPE22/attachments/"),
    ("post", "/api/v1/tickets/AS000000NOPE22/logistics/"),
    ("post", "/api/v1/tickets/AS000000NOPE22/transition/"),
    ("post", "/api/v1/tickets/AS000000NOPE22/assign/"),
    ("get", "/api/v1/webhooks/"),
]


def _call(client, method, url):
    return client.get(url) if method == "get" else client.post(url, {}, format="json")


def _assert_401(response):
    assert response.status_code == 401, (response.status_code, response.content)
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert response.has_header("WWW-Authenticate")


# --- POST /api/v1/auth/token/ --------------------------------------------------------


def test_token_for_good_credentials(client, agent):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "agent", "password": "pw-123456"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=agent).key == token
    # the same token on a second login
    again = client.post(
        "/api/v1/auth/token/",
        {"username": "agent", "password": "pw-123456"},
        content_type="application/json",
    )
    assert again.json()["token"] == token
    # and it works
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert staff.get("/api/v1/tickets/").status_code == 200


def test_token_accepts_a_form_post(client, agent):
    response = client.post(
        "/api/v1/auth/token/",
        "username=agent&password=pw-123456",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and response.json()["token"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "agent", "password": "wrong"},
        {"username": "nobody", "password": "pw-123456"},
        {"username": "AGENT", "password": "pw-123456"},
        {"username": "agent", "password": " pw-123456"},
    ],
)
def test_wrong_credentials_are_401(client, agent, body):
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not Token.objects.exists()


def test_inactive_user_gets_no_token(client, agent):
    agent.is_active = False
    agent.save()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "agent", "password": "pw-123456"},
        content_type="application/json",
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"username", "password"}),
        ({"username": "agent"}, {"password"}),
        ({"password": "pw-123456"}, {"username"}),
        ({"username": "", "password": ""}, {"username", "password"}),
        ({"username": "agent", "password": "pw-123456", "otp": "1"}, {"otp"}),
    ],
)
def test_missing_fields_are_400(client, agent, body, fields):
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert set(response.json()["error"]["fields"]) == fields


def test_token_endpoint_malformed_json(client, db):
    response = client.post("/api/v1/auth/token/", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"


# --- credentials on the API ----------------------------------------------------------


@pytest.mark.parametrize("method, url", PROTECTED)
def test_no_credentials_is_401_everywhere(db, method, url):
    _assert_401(_call(APIClient(), method, url))


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key nonsense",
        "Api-Key abcdefgh.wrongsecretwrongsecretwrongsecret",
        "Api-Key ",
        "Api-Key",
        "Token 0123456789abcdef0123456789abcdef01234567",
        "Token ",
        "Token",
        "Token a b",
        "Token a\x00b",
        "Api-Key a\x00b.c",
        "Bearer abc",
        "Basic YWdlbnQ6cHctMTIzNDU2",
        "api-key whatever",
        "garbage",
        "",
    ],
)
def test_bad_credentials_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    _assert_401(client.get("/api/v1/tickets/"))


def test_key_of_one_shop_with_anothers_secret_is_401(shop, other_shop):
    key = api_key_for(shop)
    other = api_key_for(other_shop)
    forged = f"{key.split('.')[0]}.{other.split('.')[1]}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {forged}")
    _assert_401(client.get("/api/v1/tickets/"))


def test_revoked_and_expired_keys_are_401(shop):
    revoked = api_key_for(shop)
    ShopAPIKey.objects.filter(prefix=revoked.split(".")[0]).update(revoked=True)
    expired = api_key_for(shop)
    ShopAPIKey.objects.filter(prefix=expired.split(".")[0]).update(
        expiry_date=timezone.now() - dt.timedelta(minutes=1)
    )
    valid = api_key_for(shop)
    for key, status in ((revoked, 401), (expired, 401), (valid, 200)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        assert client.get("/api/v1/tickets/").status_code == status


def test_token_of_a_deactivated_user_is_401(agent, agent_client):
    assert agent_client.get("/api/v1/tickets/").status_code == 200
    agent.is_active = False
    agent.save()
    _assert_401(agent_client.get("/api/v1/tickets/"))


def test_key_with_surrounding_spaces_works(shop):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key  {api_key_for(shop)}  ")
    assert client.get("/api/v1/tickets/").status_code == 200
