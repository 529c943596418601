from django.urls import path

from disputes import views

app_name = "disputes"

urlpatterns = [
    path("tickets/<str:number>/disputes/", views.dispute_panels, name="panels"),
    path("tickets/<str:number>/judgment/", views.judgment_record, name="judgment"),
    path("tickets/<str:number>/compensation/", views.compensation_panel, name="compensation-panel"),
    path("tickets/<str:number>/compensations/", views.compensation_list, name="compensation-list"),
    path(
        "tickets/<str:number>/compensations/propose/",
        views.compensation_propose,
        name="compensation-propose",
    ),
    path(
        "compensations/<int:compensation_id>/<slug:decision>/",
        views.compensation_decide,
        name="compensation-decide",
    ),
    path("approvals/", views.approvals, name="approvals"),
    path("shops/<slug:code>/policy/", views.shop_policy, name="shop-policy"),
    path("shops/<slug:code>/dispute-types/", views.shop_dispute_types, name="shop-dispute-types"),
    path("webhooks/", views.webhook_log, name="webhook-log"),
]
