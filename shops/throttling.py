from rest_framework.throttling import SimpleRateThrottle

from shops.permissions import is_shop_key


class ShopKeyRateThrottle(SimpleRateThrottle):
    """Rate-limits each shop API key; counters live in the shared cache."""

    scope = "shop_key"

    def get_cache_key(self, request, view):
        if not is_shop_key(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
