from django.contrib import admin

from shops.admin import ReadOnlyAdminMixin, ShopScopedAdmin
from sla.models import Timer


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdminMixin, ShopScopedAdmin):
    """The SLA timers, read-only: filter by state "parked" for the ones that kept failing."""

    shop_field = "ticket__shop"
    list_display = ["ticket", "kind", "due_at", "state", "attempts", "result"]
    list_filter = ["state", "kind"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__number"]
    ordering = ["-due_at"]
