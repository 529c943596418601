from django.contrib import admin
from django.db.models import Q
from rest_framework_api_key.admin import APIKeyModelAdmin

from shops.models import Membership, Shop, ShopAPIKey
from shops.selectors import shop_ids_for_user


class ReadOnlyAdminMixin:
    """History, not data to edit in the admin: rows are listed and read, never added, changed
    or deleted here (the services write them, on the timeline)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShopScopedAdmin(admin.ModelAdmin):
    """Non-superusers see and edit only the rows of the shops they work for."""

    shop_field = "shop"
    # Rows with no shop are global (seeded catalogue, canned replies): shown, but read-only.
    include_global = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        scope = Q(**{f"{self.shop_field}__in": shop_ids_for_user(user=request.user)})
        if self.include_global:
            scope |= Q(**{f"{self.shop_field}__isnull": True})
        return queryset.filter(scope)

    def has_change_permission(self, request, obj=None):
        if (
            self.include_global
            and obj is not None
            and obj.shop_id is None
            and not request.user.is_superuser
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if (
            self.include_global
            and obj is not None
            and obj.shop_id is None
            and not request.user.is_superuser
        ):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "shop" and not request.user.is_superuser:
            kwargs["queryset"] = Shop.objects.filter(id__in=shop_ids_for_user(user=request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Shop)
class ShopAdmin(ShopScopedAdmin):
    shop_field = "id"
    list_display = ["code", "name", "timezone", "created_at"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request):
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(ShopScopedAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role", "shop"]
    search_fields = ["user__username"]


@admin.register(ShopAPIKey)
class ShopAPIKeyAdmin(APIKeyModelAdmin, ShopScopedAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "shop"]
    list_filter = ["shop", "revoked"]
