from django.contrib import admin

from assignment.models import AssignmentSettings, Availability


@admin.register(AssignmentSettings)
class AssignmentSettingsAdmin(admin.ModelAdmin):
    list_display = ["shop", "mode", "max_open_per_agent", "updated_at"]
    raw_id_fields = ["last_assignee"]


@admin.register(Availability)
class AvailabilityAdmin(admin.ModelAdmin):
    list_display = ["user", "available", "changed_at"]
    raw_id_fields = ["user"]
