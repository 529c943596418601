from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from shops.models import Membership, Role, Shop


def shop_ids_for_user(*, user: AbstractBaseUser) -> list[int]:
    """The shops a staff user works for (superusers: all shops)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Shop.objects.values_list("id", flat=True))
    return list(Membership.objects.filter(user=user).values_list("shop_id", flat=True))


def user_role_in_shop(*, user: AbstractBaseUser, shop_id: int) -> str | None:
    if user.is_superuser:
        return Role.ADMIN
    return (
        Membership.objects.filter(user=user, shop_id=shop_id).values_list("role", flat=True).first()
    )


def memberships_for_request(request) -> list[tuple[int, str, str]]:
    """(shop_id, shop_code, role) of the request's user, read once per request: the workspace
    nav asks several times (approvals, policy links, dashboard link)."""
    cached = getattr(request, "_shop_memberships", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = []
        if user is not None and user.is_authenticated:
            cached = list(
                Membership.objects.filter(user=user)
                .order_by("shop__code")
                .values_list("shop_id", "shop__code", "role")
            )
        request._shop_memberships = cached
    return cached


def shop_and_role(*, user: AbstractBaseUser, code: str) -> tuple[Shop | None, str | None]:
    """The shop `code` if the user works for it, with the user's role there (superusers: admin
    of every shop); (None, None) otherwise. One query."""
    if user.is_superuser:
        return Shop.objects.filter(code=code).first(), Role.ADMIN
    membership = (
        Membership.objects.filter(user=user, shop__code=code).select_related("shop").first()
    )
    return (membership.shop, membership.role) if membership else (None, None)


def admin_shop(*, user: AbstractBaseUser, code: str) -> Shop:
    """The shop `code` if the user is one of its admins (the settings pages); 404 otherwise, as
    for a shop they do not work for."""
    shop, role = shop_and_role(user=user, code=code)
    if shop is None or role != Role.ADMIN:
        raise Http404("No such shop.")
    return shop
