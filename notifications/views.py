"""The workspace bell: unread count in the top bar, the list, mark read."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from aftersales.auth import login_required, redirect_back
from notifications.selectors import notifications_for, unread_count
from notifications.services import notification_mark_read


@login_required
@require_GET
def notification_list(request):
    page = Paginator(notifications_for(user=request.user), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": unread_count(user=request.user)},
    )


@login_required
@require_POST
def notification_read(request):
    ids = request.POST.getlist("id")
    notification_mark_read(
        user=request.user, ids=[int(i) for i in ids if i.isdigit()] if ids else None
    )
    return redirect_back(request, "notifications:list")
