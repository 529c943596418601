from django.urls import path

from disputes import api

urlpatterns = [
    path(
        "tickets/<str:number>/judgment/suggestion/",
        api.JudgmentSuggestionApi.as_view(),
        name="api-judgment-suggestion",
    ),
    path("tickets/<str:number>/judgment/", api.JudgmentCreateApi.as_view(), name="api-judgment"),
    path(
        "tickets/<str:number>/compensation-options/",
        api.CompensationOptionsApi.as_view(),
        name="api-compensation-options",
    ),
    path(
        "tickets/<str:number>/compensations/",
        api.TicketCompensationsApi.as_view(),
        name="api-ticket-compensations",
    ),
    path("compensations/", api.CompensationListApi.as_view(), name="api-compensations"),
    path(
        "compensations/<int:compensation_id>/approve/",
        api.CompensationDecisionApi.as_view(decision="approve"),
        name="api-compensation-approve",
    ),
    path(
        "compensations/<int:compensation_id>/reject/",
        api.CompensationDecisionApi.as_view(decision="reject"),
        name="api-compensation-reject",
    ),
    path(
        "compensations/<int:compensation_id>/cancel/",
        api.CompensationDecisionApi.as_view(decision="cancel"),
        name="api-compensation-cancel",
    ),
    path(
        "compensations/<int:compensation_id>/executed/",
        api.CompensationExecutedApi.as_view(),
        name="api-compensation-executed",
    ),
    path(
        "compensations/<int:compensation_id>/failed/",
        api.CompensationFailedApi.as_view(),
        name="api-compensation-failed",
    ),
    path("shops/<slug:code>/policy/", api.ShopPolicyApi.as_view(), name="api-shop-policy"),
]
