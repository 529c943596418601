from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext
from rest_framework import authentication, exceptions

from aftersales.db import joined_columns, joined_rows_first
from shops.models import Shop, ShopAPIKey


class ShopKeyUser(AnonymousUser):
    """The request's user when a shop backend calls with its API key."""

    def __init__(self, api_key: ShopAPIKey):
        self.api_key = api_key
        self.shop = api_key.shop

    @property
    def is_authenticated(self):
        return True

    def __str__(self):
        return f"shop:{self.shop.code}"


class ShopAPIKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`; request.auth is the ShopAPIKey."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if "\x00" in header:
            # Checked here for Token too (this class runs first): PostgreSQL refuses NUL in a query (500).
            raise exceptions.AuthenticationFailed(gettext("Malformed Authorization header."))
        keyword, _, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed(gettext("Empty API key."))
        prefix, _, _ = key.partition(".")
        api_key = _key_with_shop(prefix)
        if api_key is None or not ShopAPIKey.objects.key_generator.verify(key, api_key.hashed_key):
            raise exceptions.AuthenticationFailed(gettext("Invalid API key."))
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(gettext("API key revoked or expired."))
        return ShopKeyUser(api_key), api_key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when credentials are missing.
        return self.keyword


def _key_with_shop(prefix: str) -> ShopAPIKey | None:
    """The unrevoked key of that prefix with its shop, or None. Read on every API request:
    written out (aftersales.db.joined_rows), as the ORM took longer to build the query than
    PostgreSQL takes to answer it; as the request's first query, it checks the kept connection
    (joined_rows_first: no SELECT 1 before it)."""
    rows = joined_rows_first(_KEY_SQL, [prefix], (ShopAPIKey, Shop))
    if not rows:
        return None
    (api_key, shop), _rest = rows[0]
    ShopAPIKey.shop.field.set_cached_value(api_key, shop)
    return api_key


_KEY_SQL = (
    f"SELECT {joined_columns(('k', ShopAPIKey), ('s', Shop))}"
    f" FROM {ShopAPIKey._meta.db_table} k JOIN {Shop._meta.db_table} s ON s.id = k.shop_id"
    " WHERE k.prefix = %s AND NOT k.revoked"
)
