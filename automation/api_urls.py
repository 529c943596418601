from django.urls import path

from automation import api

urlpatterns = [
    path("shops/<slug:code>/rules/", api.RuleListApi.as_view(), name="api-shop-rules"),
    path(
        "shops/<slug:code>/rules/<int:rule_id>/",
        api.RuleDetailApi.as_view(),
        name="api-shop-rule",
    ),
    path(
        "shops/<slug:code>/rules/<int:rule_id>/preview/",
        api.RulePreviewApi.as_view(),
        name="api-shop-rule-preview",
    ),
]
