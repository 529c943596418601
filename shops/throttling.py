"""API rate limits whose counters are atomic in the shared cache (Redis INCR), so concurrent
requests cannot all read the same count and all pass, as DRF's history list lets them."""

import time

import redis
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCacheClient
from rest_framework.throttling import SimpleRateThrottle

from shops.permissions import is_shop_key, is_staff_user


class AtomicRateThrottle(SimpleRateThrottle):
    """N requests per window for one caller. The window opens with the caller's first request
    and lasts the rate's period; the count is one atomic increment per request."""

    cache = default_cache

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        return self._count() <= self.num_requests

    def _count(self) -> int:
        """This request's number in its caller's window; the first opens the window."""
        client = _redis_client(self.cache)
        if client is not None:
            # One round trip (Django's add, then incr, were three: SET NX, EXISTS, INCR).
            keys = [self.cache.make_and_validate_key(k) for k in (self.key, f"{self.key}:start")]
            return _count_in_window(keys=keys, args=[self.duration, int(self.now)], client=client)
        if self.cache.add(self.key, 1, self.duration):
            self.cache.set(f"{self.key}:start", int(self.now), self.duration)
            return 1
        try:
            return self.cache.incr(self.key)
        except ValueError:  # the window closed between add and incr: this request opens the next
            self.cache.add(self.key, 1, self.duration)
            self.cache.set(f"{self.key}:start", int(self.now), self.duration)
            return 1

    def wait(self):
        started = self.cache.get(f"{self.key}:start") or self.now
        return max(started + self.duration - self.now, 1)

    def timer(self):
        return time.time()


class ShopKeyRateThrottle(AtomicRateThrottle):
    """Each shop API key."""

    scope = "shop_key"

    def get_cache_key(self, request, view):
        if not is_shop_key(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class StaffRateThrottle(AtomicRateThrottle):
    """Each staff credential of the API: a token (a stolen one cannot hammer the API either), or
    the user behind a browser session."""

    scope = "staff"

    def get_cache_key(self, request, view):
        if not is_staff_user(request):
            return None
        ident = getattr(request.auth, "key", None) or f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


# The count and the window's start as one atomic step in Redis: the first request of a window
# (INCR gives 1) sets both to expire when the window closes. Integers only, so Django's cache
# reads the start back (its serializer stores integers as they are).
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[1])
end
return count
"""
# Run by its digest; a Redis that does not know it yet (restarted, flushed) is given it whole.
_count_in_window = redis.Redis().register_script(_COUNT_SCRIPT)  # the client is only its encoder


def _redis_client(cache):
    """The Redis client behind Django's Redis cache, or None for another cache (the database
    cache of `make run`)."""
    client = getattr(cache, "_cache", None)  # (through django.core.cache.cache's proxy too)
    return client.get_client(write=True) if isinstance(client, RedisCacheClient) else None
