"""Who may do what: the roles of a shop's staff and the checks every page and API view uses."""

from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from rest_framework import permissions

from shops.authentication import ShopKeyUser
from shops.models import Role, Shop
from shops.selectors import shop_and_role

# Supervisors: decide compensation above an agent's authority, get escalations and alerts, see the
# dashboard. A shop's admins are supervisors too, and also change the shop's settings.
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def is_supervisor(role: str | None) -> bool:
    return role in SUPERVISOR_ROLES


def is_shop_admin(role: str | None) -> bool:
    return role == Role.ADMIN


def is_shop_key(request) -> bool:
    return isinstance(request.user, ShopKeyUser)


def is_staff_user(request) -> bool:
    return bool(request.user and request.user.is_authenticated and not is_shop_key(request))


class IsShopKeyOrStaff(permissions.BasePermission):
    def has_permission(self, request, view):
        return is_shop_key(request) or is_staff_user(request)


class IsShopKey(permissions.BasePermission):
    message = gettext_lazy("This endpoint is for shop backends (Api-Key).")

    def has_permission(self, request, view):
        return is_shop_key(request)


class IsStaff(permissions.BasePermission):
    message = gettext_lazy("This endpoint is for staff users (Token).")

    def has_permission(self, request, view):
        return is_staff_user(request)


def shop_for_admin(request, code: str) -> Shop:
    """API: the shop `code` for one of its admins; 404 when the caller does not work for it (or is
    a shop key), 403 when they do but are not an admin."""
    # Not at module level: DRF imports this module (DEFAULT_PERMISSION_CLASSES) while
    # aftersales.exceptions is itself still importing rest_framework.views.
    from aftersales.exceptions import ApplicationError

    shop, role = shop_and_role(user=request.user, code=code)
    if shop is None or is_shop_key(request):
        raise Http404("No such shop.")
    if not is_shop_admin(role):
        raise ApplicationError(
            "not_allowed",
            gettext("Only the shop's admins can read or change its settings."),
            status_code=403,
        )
    return shop
