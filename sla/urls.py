from django.urls import path

from sla import views

urlpatterns = [
    path("survey/<str:token>/", views.survey, name="survey"),
    path("settings/<slug:code>/sla/", views.sla_settings, name="sla-settings"),
]
