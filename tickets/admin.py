from django.contrib import admin

from shops.admin import ReadOnlyAdminMixin, ShopScopedAdmin
from tickets.models import ReplyTemplate, Ticket, TicketEvent


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ["created_at", "kind", "actor_label", "data"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, ShopScopedAdmin):
    """Read-only: tickets change through the workspace and the API, which record every change."""

    list_display = [
        "number",
        "shop",
        "status",
        "priority",
        "dispute_type",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "priority", "shop"]
    search_fields = ["number", "order__order_no", "external_ref"]
    list_select_related = ["shop", "dispute_type", "assignee"]
    inlines = [TicketEventInline]
    show_full_result_count = False


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(ShopScopedAdmin):
    list_display = ["title", "category", "shop", "language", "position"]
    list_filter = ["category", "language"]
    search_fields = ["title", "body"]
    include_global = True
