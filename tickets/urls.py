from django.urls import path

from tickets import api

urlpatterns = [
    path("ping/", api.PingApi.as_view(), name="api-ping"),
    path("auth/token/", api.TokenApi.as_view(), name="api-token"),
    path("tickets/", api.TicketListCreateApi.as_view(), name="api-tickets"),
    path("tickets/bulk/", api.TicketBulkApi.as_view(), name="api-tickets-bulk"),
    path("tickets/<str:number>/", api.TicketDetailApi.as_view(), name="api-ticket"),
    path("tickets/<str:number>/events/", api.TicketEventsApi.as_view(), name="api-ticket-events"),
    path(
        "tickets/<str:number>/messages/",
        api.TicketMessagesApi.as_view(),
        name="api-ticket-messages",
    ),
    path(
        "tickets/<str:number>/attachments/",
        api.TicketAttachmentsApi.as_view(),
        name="api-ticket-attachments",
    ),
    path(
        "tickets/<str:number>/logistics/",
        api.TicketLogisticsApi.as_view(),
        name="api-ticket-logistics",
    ),
    path(
        "tickets/<str:number>/transition/",
        api.TicketTransitionApi.as_view(),
        name="api-ticket-transition",
    ),
    path("tickets/<str:number>/assign/", api.TicketAssignApi.as_view(), name="api-ticket-assign"),
    path("tickets/<str:number>/merge/", api.TicketMergeApi.as_view(), name="api-ticket-merge"),
    path("customers/<path:external_id>/", api.CustomerDetailApi.as_view(), name="api-customer"),
]
