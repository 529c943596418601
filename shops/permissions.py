from django.utils.translation import gettext_lazy
from rest_framework import permissions

from shops.authentication import ShopKeyUser


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
