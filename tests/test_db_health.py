"""The health check of a kept connection (CONN_HEALTH_CHECKS): a connection the server closed is
replaced before a request uses it."""

import time

import psycopg2
import pytest
from django.core.signals import request_started
from django.db import close_old_connections, connection

from shops.models import Shop

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connections"),
]


@pytest.fixture
def other_connection():
    """A second session on the test database, to look at (and drop) the first one."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg2.connect(**params)
    other.autocommit = True
    yield other.cursor()
    other.close()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _start_request():
    """What Django does as a request starts: forget the last check (close_old_connections)."""
    request_started.disconnect(close_old_connections)
    try:
        close_old_connections()
    finally:
        request_started.connect(close_old_connections)


def test_kept_connections_are_checked():
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_connection_the_server_dropped_is_replaced_before_the_request_uses_it(other_connection):
    pid = _backend_pid()
    other_connection.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while True:  # the backend is gone once pg_stat_activity no longer lists it
        other_connection.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        if other_connection.fetchone()[0] == 0:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not connection.is_usable()
    _start_request()
    assert Shop.objects.count() == 0  # no error: the check closed it, the query reconnected
    assert _backend_pid() != pid


def _shop_key_prefix() -> str:
    from shops.models import ShopAPIKey
    from tests.factories import ShopFactory

    _row, key = ShopAPIKey.objects.create_key(name="health", shop=ShopFactory())
    return key.partition(".")[0]


def test_an_api_keys_read_is_the_requests_check_without_a_select_1(monkeypatch):
    from shops.authentication import _key_with_shop

    prefix = _shop_key_prefix()
    _backend_pid()  # the connection is open and kept
    _start_request()
    checks = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or is_usable())
    assert _key_with_shop(prefix).prefix == prefix
    assert checks == [] and connection.health_check_done
    assert Shop.objects.count() == 1  # the request's later queries: no check either
    assert checks == []


def test_an_api_keys_read_replaces_a_connection_the_server_dropped(other_connection):
    from shops.authentication import _key_with_shop

    prefix = _shop_key_prefix()
    pid = _backend_pid()
    other_connection.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while True:
        other_connection.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        if other_connection.fetchone()[0] == 0:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _start_request()
    assert _key_with_shop(prefix).prefix == prefix  # no error: read again on a new connection
    assert _backend_pid() != pid


def test_a_backend_told_to_end_that_has_not_yet_is_replaced_too(other_connection):
    """The terminate signal sent, the read run at once: whether the backend has acted on it
    yet or not, the read answers (the case a socket check missed)."""
    from shops.authentication import _key_with_shop

    prefix = _shop_key_prefix()
    for _ in range(5):
        pid = _backend_pid()
        other_connection.execute("SELECT pg_terminate_backend(%s)", [pid])
        _start_request()
        assert _key_with_shop(prefix).prefix == prefix
