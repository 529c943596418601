from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("analytics/", views.dashboard, name="dashboard"),
    path("analytics/alerts/", views.alert_list, name="alerts"),
    path("analytics/alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("analytics/alerts/<int:pk>/<str:action>/", views.alert_action, name="alert-action"),
    path("analytics/export/tickets.csv", views.export_tickets, name="export-tickets"),
    path("analytics/export/<str:table>.csv", views.export_table, name="export-table"),
    path("settings/<slug:code>/analytics/", views.analytics_settings, name="settings"),
]
