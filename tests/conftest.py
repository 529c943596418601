import os

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import ShopFactory, api_key_for, staff_member


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """One test database per pytest process, so concurrent runs on one server don't collide."""
    from django.conf import settings

    for db in settings.DATABASES.values():
        if "postgresql" in db["ENGINE"]:
            db.setdefault("TEST", {})["NAME"] = f"test_{db['NAME']}_{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_on_the_test_database(django_db_setup, django_db_blocker):
    """Torn down just before the test database is dropped: a connection a live server's thread or
    a Celery worker subprocess still holds for a moment would make the drop fail ("being accessed
    by other users") and leave the database behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def shop(db):
    return ShopFactory(code="demo", name="Demo shop")


@pytest.fixture
def other_shop(db):
    return ShopFactory(code="other", name="Other shop")


@pytest.fixture
def shop_client(shop):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(shop)}")
    return client


@pytest.fixture
def other_shop_client(other_shop):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(other_shop)}")
    return client


def _token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def agent(shop):
    return staff_member(shop, "agent", username="agent")


@pytest.fixture
def supervisor(shop):
    return staff_member(shop, "supervisor", username="supervisor")


@pytest.fixture
def agent_client(agent):
    return _token_client(agent)


@pytest.fixture
def other_agent_client(other_shop):
    return _token_client(staff_member(other_shop, "agent", username="other-agent"))


@pytest.fixture
def token_client():
    """token_client(user) -> an APIClient authenticated with that user's Token."""
    return _token_client


@pytest.fixture
def ticket(shop):
    from tests.factories import make_ticket

    return make_ticket(shop)


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploaded files go to a temporary directory, not var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT


@pytest.fixture
def dispute_types_seeded(django_db_blocker):
    """The data migrations' seeded rows (dispute types, reply templates), put back after a
    transactional test's flush removed them. serialized_rollback cannot do it once another
    transactional test's flush has re-created the content types (duplicate key)."""
    from tickets.apps import seed_catalogues

    with django_db_blocker.unblock():
        seed_catalogues(None)
