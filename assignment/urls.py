from django.urls import path

from assignment import views

app_name = "assignment"

urlpatterns = [
    path("me/availability/", views.availability, name="availability"),
    path("settings/<slug:code>/assignment/", views.assignment_settings, name="settings"),
]
