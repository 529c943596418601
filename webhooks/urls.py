from django.urls import path

from webhooks import api

urlpatterns = [
    path("webhooks/", api.WebhookListCreateApi.as_view(), name="api-webhooks"),
    path("webhooks/<int:endpoint_id>/", api.WebhookDetailApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:endpoint_id>/deliveries/",
        api.WebhookDeliveriesApi.as_view(),
        name="api-webhook-deliveries",
    ),
]
