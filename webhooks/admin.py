from django.contrib import admin

from shops.admin import ShopScopedAdmin
from webhooks.models import WebhookAttempt, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ShopScopedAdmin):
    list_display = ["url", "shop", "events", "active", "created_at"]
    list_filter = ["active", "shop"]
    readonly_fields = ["secret"]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ShopScopedAdmin):
    shop_field = "delivery__endpoint__shop"
    list_display = ["attempted_at", "delivery", "status_code", "error", "duration_ms"]
    list_select_related = ["delivery"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
