"""API rate limits whose counters are atomic in the shared cache (Redis INCR), so concurrent
requests cannot all read the same count and all pass, as DRF's history list lets them."""

import time

from django.core.cache import cache as default_cache
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
        if self.cache.add(self.key, 1, self.duration):
            self.cache.set(f"{self.key}:start", self.now, self.duration)
            return True
        try:
            count = self.cache.incr(self.key)
        except ValueError:  # the window closed between add and incr: this request opens the next
            self.cache.add(self.key, 1, self.duration)
            self.cache.set(f"{self.key}:start", self.now, self.duration)
            return True
        return count <= self.num_requests

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
