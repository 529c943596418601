from django.urls import path

from sla import api

urlpatterns = [
    path("shops/<slug:code>/sla/", api.ShopSlaApi.as_view(), name="api-shop-sla"),
]
