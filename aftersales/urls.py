from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import aftersales.schema  # noqa: F401  (registers the schema extensions before any schema is built)

handler400 = "aftersales.exceptions.json_bad_request"
handler404 = "aftersales.exceptions.json_not_found"
handler500 = "aftersales.exceptions.json_server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("tickets.urls")),
    path("api/v1/", include("webhooks.urls")),
    path("api/v1/", include("disputes.urls")),
    path("", include("disputes.workspace_urls")),
    path("api/v1/", include("assignment.api_urls")),
    path("", include("assignment.urls")),
    path("api/v1/", include("risk.urls")),
    path("", include("risk.workspace_urls")),
    path("api/v1/", include("sla.api_urls")),
    path("", include("sla.urls")),
    path("api/v1/", include("automation.api_urls")),
    path("", include("automation.urls")),
    path("", include("notifications.urls")),
    path("api/v1/", include("analytics.urls")),
    path("", include("analytics.workspace_urls")),
    path("", include("tickets.workspace_urls")),
]
