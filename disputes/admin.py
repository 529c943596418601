from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.exceptions import ApplicationError
from disputes import services
from disputes.models import Compensation
from shops.admin import ReadOnlyAdminMixin, ShopScopedAdmin
from tickets.models import DisputeType
from tickets.services import Actor


@admin.register(DisputeType)
class DisputeTypeAdmin(ShopScopedAdmin):
    list_display = [
        "code",
        "name_zh",
        "name_en",
        "category",
        "default_priority",
        "photo_required",
        "shop",
        "active",
    ]
    list_filter = ["category", "default_priority", "active"]
    search_fields = ["code", "name_zh", "name_en"]
    include_global = True


@admin.register(Compensation)
class CompensationAdmin(ReadOnlyAdminMixin, ShopScopedAdmin):
    """Read-only history: a compensation changes only through the services (approve, reject,
    cancel, the shop's report), each recorded on the ticket's timeline. Cancelling is the one
    action here, and it goes through compensation_cancel too."""

    shop_field = "ticket__shop"
    list_display = [
        "id",
        "ticket",
        "type",
        "amount",
        "status",
        "within_standard",
        "proposed_by",
        "decided_by",
        "created_at",
    ]
    list_filter = ["status", "type", "within_standard"]
    search_fields = ["ticket__number", "external_ref"]
    list_select_related = ["ticket", "proposed_by", "decided_by"]
    date_hierarchy = "created_at"
    actions = ["cancel_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_cancel_permission(self, request):
        return request.user.has_perm("disputes.change_compensation")

    @admin.action(
        description=_("Cancel the selected compensations (not executed)"), permissions=["cancel"]
    )
    def cancel_selected(self, request, queryset):
        actor = Actor.staff(request.user)
        cancelled, refused = 0, []
        for compensation in queryset.select_related("ticket").order_by("pk"):
            try:
                services.compensation_cancel(
                    compensation=compensation,
                    actor=actor,
                    note=gettext("Cancelled in the admin by %(user)s.")
                    % {"user": request.user.get_username()},
                )
            except ApplicationError as exc:
                refused.append(f"#{compensation.pk}: {exc.message}")
            else:
                cancelled += 1
        if cancelled:
            self.message_user(
                request,
                gettext("Cancelled %(count)d compensation(s).") % {"count": cancelled},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                gettext("Not cancelled: %(rows)s") % {"rows": "; ".join(refused)},
                messages.WARNING,
            )
