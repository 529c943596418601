from django.urls import path

from risk import api

urlpatterns = [
    path(
        "tickets/<str:number>/risk/dismiss/",
        api.FlagDismissApi.as_view(),
        name="api-risk-dismiss",
    ),
]
