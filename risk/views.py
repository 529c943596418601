"""Workspace pages of risk: a supervisor dismisses a flag from the ticket page's risk section."""

from django.contrib import messages
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.auth import login_required
from aftersales.exceptions import ApplicationError
from risk import services
from risk.selectors import flag_label
from tickets.selectors import ticket_get
from tickets.services import Actor
from tickets.views import _after_post, _error_message


@login_required
@require_POST
def flag_dismiss(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    code = request.POST.get("code", "")
    try:
        services.flag_dismiss(
            ticket=ticket,
            code=code,
            note=request.POST.get("note", ""),
            actor=Actor.staff(request.user),
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(request, number)
    messages.success(request, _("Flag dismissed: %(flag)s.") % {"flag": flag_label(code)})
    return _after_post(request, number)
