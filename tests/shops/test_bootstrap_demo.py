"""`manage.py bootstrap_demo [--shop CODE]` (API.md, Authentication)."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from shops.models import Membership, Shop
from tests.factories import ticket_payload

User = get_user_model()


def _bootstrap(*args) -> dict:
    out, err = io.StringIO(), io.StringIO()
    call_command("bootstrap_demo", *args, stdout=out, stderr=err)
    text = out.getvalue()
    result = json.loads(text)  # the whole of stdout is one JSON object
    assert text.count("\n") <= 1 and text.strip().startswith("{") and text.strip().endswith("}")
    return result


def _key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _token(username: str, password: str):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    return response.status_code, response.json()


def _token_client(username: str, password: str) -> APIClient:
    status, body = _token(username, password)
    assert status == 200, body
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    return client


def test_prints_one_json_object_with_working_secrets(db):
    result = _bootstrap()

    assert set(result) == {"shop", "api_key", "users"}
    assert result["shop"] == "demo"
    assert set(result["users"]) == {"agent", "supervisor", "admin"}
    for role, user in result["users"].items():
        assert user["username"] == role
        assert user["password"]
        assert Membership.objects.get(user__username=role, shop__code="demo").role == role
        assert _token(user["username"], user["password"])[0] == 200

    created = _key_client(result["api_key"]).post(
        "/api/v1/tickets/", ticket_payload(), format="json"
    )
    assert created.status_code == 201 and created.json()["shop"] == "demo"
    agent = _token_client(
        result["users"]["agent"]["username"], result["users"]["agent"]["password"]
    )
    assert [t["number"] for t in agent.get("/api/v1/tickets/").json()["results"]] == [
        created.json()["number"]
    ]


def test_running_twice_still_works(db):
    first = _bootstrap()
    second = _bootstrap()

    assert Shop.objects.filter(code="demo").count() == 1
    assert User.objects.filter(username__in=["agent", "supervisor", "admin"]).count() == 3
    assert Membership.objects.filter(shop__code="demo").count() == 3
    assert _key_client(second["api_key"]).get("/api/v1/tickets/").status_code == 200
    for role, user in second["users"].items():
        assert _token(user["username"], user["password"])[0] == 200
        if user["password"] != first["users"][role]["password"]:
            assert _token(user["username"], first["users"][role]["password"])[0] == 401


def test_other_shop_gets_its_own_key_and_users(db):
    demo = _bootstrap()
    acme = _bootstrap("--shop", "acme")

    assert acme["shop"] == "acme"
    assert acme["api_key"] != demo["api_key"]
    assert {role: u["username"] for role, u in acme["users"].items()} == {
        "agent": "acme-agent",
        "supervisor": "acme-supervisor",
        "admin": "acme-admin",
    }
    assert not Membership.objects.filter(user__username="acme-agent", shop__code="demo").exists()

    demo_ticket = (
        _key_client(demo["api_key"])
        .post("/api/v1/tickets/", ticket_payload(), format="json")
        .json()["number"]
    )
    acme_ticket = (
        _key_client(acme["api_key"])
        .post("/api/v1/tickets/", ticket_payload(), format="json")
        .json()["number"]
    )

    for role in ("agent", "supervisor", "admin"):
        acme_staff = _token_client(acme["users"][role]["username"], acme["users"][role]["password"])
        assert [t["number"] for t in acme_staff.get("/api/v1/tickets/").json()["results"]] == [
            acme_ticket
        ]
        assert acme_staff.get(f"/api/v1/tickets/{demo_ticket}/").status_code == 404
    demo_agent = _token_client("agent", demo["users"]["agent"]["password"])
    assert [t["number"] for t in demo_agent.get("/api/v1/tickets/").json()["results"]] == [
        demo_ticket
    ]
    assert _key_client(acme["api_key"]).get(f"/api/v1/tickets/{demo_ticket}/").status_code == 404


@pytest.mark.parametrize("code", ["Not A Slug", "a/b", "中文"])
def test_shop_code_must_be_a_slug(db, code):
    with pytest.raises(CommandError):
        call_command("bootstrap_demo", "--shop", code, stdout=io.StringIO())
    assert not Shop.objects.exists()
