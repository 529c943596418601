from django.urls import path

from tickets import views, views_macros, views_new

app_name = "workspace"

urlpatterns = [
    path("settings/<slug:code>/macros/", views_macros.macro_list, name="macros"),
    path("settings/<slug:code>/macros/new/", views_macros.macro_edit, name="macro-new"),
    path("settings/<slug:code>/macros/<int:pk>/", views_macros.macro_edit, name="macro-edit"),
    path("settings/<slug:code>/macros/<int:pk>/copy/", views_macros.macro_copy, name="macro-copy"),
    path(
        "settings/<slug:code>/macros/<int:pk>/delete/",
        views_macros.macro_delete,
        name="macro-delete",
    ),
    path("", views.queue, name="queue"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("tickets/new/", views_new.ticket_new, name="ticket-new"),
    path("tickets/new/customer/", views_new.ticket_new_customer, name="ticket-new-customer"),
    path("bulk/", views.queue_bulk, name="queue-bulk"),
    path("views/", views.saved_view_save, name="saved-view-save"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="saved-view-delete"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:number>/reply/", views.ticket_reply, name="ticket-reply"),
    path("tickets/<str:number>/presence/", views.ticket_presence, name="ticket-presence"),
    path("tickets/<str:number>/transition/", views.ticket_transition, name="ticket-transition"),
    path("tickets/<str:number>/assign/", views.ticket_assign, name="ticket-assign"),
    path(
        "tickets/<str:number>/attachments/",
        views.ticket_attachment_add,
        name="ticket-attachment-add",
    ),
    path(
        "tickets/<str:number>/logistics/return/",
        views.ticket_logistics_return,
        name="ticket-logistics-return",
    ),
    path("tickets/<str:number>/follow-up/", views.ticket_follow_up, name="ticket-follow-up"),
    path("tickets/<str:number>/merge/", views.ticket_merge, name="ticket-merge"),
    path("attachments/<int:pk>/", views.attachment_file, name="attachment"),
    path(
        "customers/<str:shop_code>/<path:external_id>/",
        views.customer_detail,
        name="customer",
    ),
]
