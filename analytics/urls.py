from django.urls import path

from analytics import api

urlpatterns = [
    path("shipments/stats/", api.ShipmentStatsApi.as_view(), name="api-shipment-stats"),
    path("analytics/summary/", api.AnalyticsSummaryApi.as_view(), name="api-analytics-summary"),
    path("alerts/", api.AlertListApi.as_view(), name="api-alerts"),
]
