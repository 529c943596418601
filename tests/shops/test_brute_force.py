"""Brute force on /login/ and /api/v1/auth/token/ (django-axes): after the failure limit the
right password no longer works for the cool-off, per username and per address; the answer says
so in the reader's language; a success before the limit resets the count."""

import pytest
from django.test import Client

from tests.factories import staff_member

TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]  # fast: these tests log in dozens of times
    return 5


def _token(client, username, password, **extra):
    return client.post(
        TOKEN,
        {"username": username, "password": password},
        content_type="application/json",
        **extra,
    )


def test_the_token_api_locks_a_username_after_the_limit(shop, limit):
    staff_member(shop, "agent", username="agent")
    client = Client()
    for _ in range(limit - 1):
        assert _token(client, "agent", "wrong").status_code == 401
    assert _token(client, "agent", "wrong").status_code == 429  # the limit-th failure locks
    locked = _token(client, "agent", "pw-123456", HTTP_ACCEPT_LANGUAGE="en")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert (
        "Too many wrong passwords" in locked.json()["error"]["message"]
        and locked["Retry-After"] == "900"
    )
    assert "密码错误次数过多" in _token(client, "agent", "pw-123456").json()["error"]["message"]


def test_one_address_trying_many_usernames_is_locked_too(shop, limit):
    staff_member(shop, "agent", username="agent")
    client = Client()
    for n in range(limit):
        _token(client, f"guess{n}", "wrong")
    assert _token(client, "agent", "pw-123456").status_code == 429
    # Another address is not affected.
    assert _token(client, "agent", "pw-123456", REMOTE_ADDR="10.9.8.7").status_code == 200


def test_the_login_page_locks_and_explains(shop, limit):
    staff_member(shop, "agent", username="agent")
    client = Client()
    for _ in range(limit - 1):
        assert client.post("/login/", {"username": "agent", "password": "wrong"}).status_code == 200
    client.post("/login/", {"username": "agent", "password": "wrong"})
    client.cookies.load({"django_language": "en"})
    locked = client.post("/login/", {"username": "agent", "password": "pw-123456"})
    assert locked.status_code == 429
    assert (
        "Too many wrong passwords" in locked.content.decode()
        and 'name="username"' in locked.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_resets_the_count(shop, limit):
    staff_member(shop, "agent", username="agent")
    client = Client()
    for _ in range(limit - 1):
        _token(client, "agent", "wrong")
    assert _token(client, "agent", "pw-123456").status_code == 200
    for _ in range(limit - 1):
        _token(client, "agent", "wrong")
    assert _token(client, "agent", "pw-123456").status_code == 200
