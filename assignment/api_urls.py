from django.urls import path

from assignment import api

urlpatterns = [
    path(
        "shops/<slug:code>/assignment/",
        api.ShopAssignmentApi.as_view(),
        name="api-shop-assignment",
    ),
    path("me/availability/", api.MyAvailabilityApi.as_view(), name="api-my-availability"),
]
