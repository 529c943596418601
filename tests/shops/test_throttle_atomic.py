"""The API throttles count atomically: callers racing on one key never get more than the
limit through (real Redis, 16 threads)."""

import threading
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIRequestFactory

from shops.throttling import AtomicRateThrottle


class _PerIdent(AtomicRateThrottle):
    scope = "race"
    THROTTLE_RATES = {"race": "100/min"}

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.META["HTTP_X_IDENT"]}


needs_redis = pytest.mark.skipif(
    "redis" not in settings.CACHES["default"]["BACKEND"].lower(),
    reason="counts in the shared Redis cache",
)


@needs_redis
def test_sixteen_threads_never_pass_more_than_the_limit():
    ident = uuid.uuid4().hex
    request = APIRequestFactory().get("/", HTTP_X_IDENT=ident)
    allowed, start = [], threading.Barrier(16)

    def caller():
        start.wait()
        for _ in range(20):
            allowed.append(_PerIdent().allow_request(request, None))

    threads = [threading.Thread(target=caller) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100 and len(allowed) == 320
    cache.delete_many([f"throttle_race_{ident}", f"throttle_race_{ident}:start"])


def test_a_throttled_caller_is_told_how_long_to_wait():
    request = APIRequestFactory().get("/", HTTP_X_IDENT=uuid.uuid4().hex)
    _PerIdent.THROTTLE_RATES = {"race": "2/min"}
    try:
        throttle = _PerIdent()
        assert throttle.allow_request(request, None) and throttle.allow_request(request, None)
        assert not throttle.allow_request(request, None)
        assert 1 <= throttle.wait() <= 60
    finally:
        _PerIdent.THROTTLE_RATES = {"race": "100/min"}


def test_staff_are_throttled_per_user(agent_client, monkeypatch):
    from shops.throttling import StaffRateThrottle

    monkeypatch.setattr(StaffRateThrottle, "THROTTLE_RATES", {"staff": "2/min"})
    responses = [agent_client.get("/api/v1/tickets/").status_code for _ in range(3)]
    assert responses == [200, 200, 429]


@needs_redis
def test_the_window_closes_after_its_period():
    from shops.throttling import _redis_client

    ident = uuid.uuid4().hex
    request = APIRequestFactory().get("/", HTTP_X_IDENT=ident)
    assert _PerIdent().allow_request(request, None)
    assert _PerIdent().allow_request(request, None)
    keys = [cache.make_and_validate_key(f"throttle_race_{ident}{end}") for end in ("", ":start")]
    client = _redis_client(cache)
    assert [0 < client.ttl(key) <= 60 for key in keys] == [True, True]  # never a lasting count
    assert cache.get(f"throttle_race_{ident}") == 2
    assert isinstance(cache.get(f"throttle_race_{ident}:start"), int)
    cache.delete_many([f"throttle_race_{ident}", f"throttle_race_{ident}:start"])


def test_another_cache_counts_the_same_way():
    from django.core.cache.backends.locmem import LocMemCache

    class _Local(_PerIdent):
        cache = LocMemCache("throttle-test", {})
        THROTTLE_RATES = {"race": "2/min"}

    request = APIRequestFactory().get("/", HTTP_X_IDENT=uuid.uuid4().hex)
    assert [_Local().allow_request(request, None) for _ in range(3)] == [True, True, False]
    throttle = _Local()
    assert not throttle.allow_request(request, None) and 1 <= throttle.wait() <= 60


@needs_redis
def test_a_redis_that_forgot_the_script_is_given_it_again():
    """After a restart (or SCRIPT FLUSH) Redis knows no script: the count goes on all the same."""
    from shops.throttling import _redis_client

    ident = uuid.uuid4().hex
    request = APIRequestFactory().get("/", HTTP_X_IDENT=ident)
    client = _redis_client(cache)
    assert _PerIdent().allow_request(request, None)
    client.script_flush()
    assert _PerIdent().allow_request(request, None)
    assert cache.get(f"throttle_race_{ident}") == 2
    assert _PerIdent().allow_request(request, None)  # by its digest again
    assert cache.get(f"throttle_race_{ident}") == 3
    cache.delete_many([f"throttle_race_{ident}", f"throttle_race_{ident}:start"])
