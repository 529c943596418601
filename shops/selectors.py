from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from aftersales.db import joined_columns, joined_rows
from shops.config import shop_config
from shops.models import Role, Shop


def memberships(user: AbstractBaseUser) -> list[tuple[int, str, str]]:
    """(shop_id, shop_code, role) of each shop the user works for, by code: read once per user
    object — a request's user lives for that request, so the nav, the permission checks and the
    queries of one page share one read. The same read gives the shops' rows (member_shops), and
    with them their configuration versions (shops.config: no query of its own afterwards)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_shop_memberships", None)
    if cached is None:
        # Written out: every staff page reads it, and the ORM took longer to build the query
        # than PostgreSQL takes to answer it.
        rows = joined_rows(_MEMBERSHIPS_SQL, [user.pk], (Shop,))
        cached = [(shop.pk, shop.code, role) for (shop,), (role,) in rows]
        user._member_shops = {shop.pk: shop for (shop,), _role in rows}
        user._shop_memberships = cached
    return cached


def member_shops(user: AbstractBaseUser) -> dict[int, Shop]:
    """The shops the user works for, by id, from the memberships' read (no query of its own)."""
    memberships(user)
    return getattr(user, "_member_shops", {})


_MEMBERSHIPS_SQL = (
    f'SELECT {joined_columns(("shops_shop", Shop))}, "shops_membership"."role"'
    ' FROM "shops_membership" JOIN "shops_shop" ON "shops_shop"."id" = "shops_membership"."shop_id"'
    ' WHERE "shops_membership"."user_id" = %s ORDER BY "shops_shop"."code"'
)


def shop_staff(shop_id: int) -> list[AbstractBaseUser]:
    """The shop's active staff by username (id and username only), e.g. whom a ticket can be
    assigned to. Kept per process until the shop's configuration changes (shops.config: its
    memberships, a member renamed, deactivated or activated)."""
    return shop_config(
        shop_id,
        "staff",
        lambda: list(
            get_user_model()
            .objects.filter(memberships__shop_id=shop_id, is_active=True)
            .only("id", "username")
            .order_by("username")
        ),
    )


def shop_ids_for_user(*, user: AbstractBaseUser) -> list[int]:
    """The shops a staff user works for (superusers: all shops)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Shop.objects.values_list("id", flat=True))
    return [shop_id for shop_id, _code, _role in memberships(user)]


def user_role_in_shop(*, user: AbstractBaseUser, shop_id: int) -> str | None:
    if user.is_superuser:
        return Role.ADMIN
    return next((role for sid, _code, role in memberships(user) if sid == shop_id), None)


def shop_ids_with_role(*, user: AbstractBaseUser, roles) -> list[int]:
    """The shops where the user holds one of `roles` (superusers: only where they are members)."""
    return [shop_id for shop_id, _code, role in memberships(user) if role in roles]


def memberships_for_request(request) -> list[tuple[int, str, str]]:
    """(shop_id, shop_code, role) of the request's user (see memberships)."""
    user = getattr(request, "user", None)
    return memberships(user) if user is not None else []


def shop_and_role(*, user: AbstractBaseUser, code: str) -> tuple[Shop | None, str | None]:
    """The shop `code` if the user works for it, with the user's role there (superusers: admin
    of every shop); (None, None) otherwise. No query beyond the memberships' read (member_shops)."""
    if user.is_superuser:
        return Shop.objects.filter(code=code).first(), Role.ADMIN
    # through the user's memberships (read once per request, the nav reads them too)
    found = next(
        ((sid, role) for sid, shop_code, role in memberships(user) if shop_code == code), None
    )
    if found is None:
        return None, None
    return member_shops(user)[found[0]], found[1]


def admin_shop(*, user: AbstractBaseUser, code: str) -> Shop:
    """The shop `code` if the user is one of its admins (the settings pages); 404 otherwise, as
    for a shop they do not work for."""
    shop, role = shop_and_role(user=user, code=code)
    if shop is None or role != Role.ADMIN:
        raise Http404("No such shop.")
    return shop
