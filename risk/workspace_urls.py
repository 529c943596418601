from django.urls import path

from risk import views

app_name = "risk"

urlpatterns = [
    path("tickets/<str:number>/risk/dismiss/", views.flag_dismiss, name="dismiss"),
]
