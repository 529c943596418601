from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("settings/<slug:code>/rules/", views.rule_list, name="rules"),
    path("settings/<slug:code>/rules/new/", views.rule_edit, name="rule-new"),
    path("settings/<slug:code>/rules/<int:rule_id>/", views.rule_edit, name="rule-edit"),
    path("settings/<slug:code>/rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("settings/<slug:code>/rules/<int:rule_id>/move/", views.rule_move, name="rule-move"),
    path("settings/<slug:code>/rules/<int:rule_id>/delete/", views.rule_remove, name="rule-delete"),
]
