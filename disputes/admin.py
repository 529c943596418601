from django.contrib import admin

from disputes.models import DisputeType
from shops.admin import ShopScopedAdmin


@admin.register(DisputeType)
class DisputeTypeAdmin(ShopScopedAdmin):
    list_display = ["code", "name_zh", "name_en", "category", "default_priority", "photo_required", "shop", "active"]
    list_filter = ["category", "default_priority", "active"]
    search_fields = ["code", "name_zh", "name_en"]
    include_global = True
