"""The customer's satisfaction survey (public, reached by its token, no login) and the
shop admin's SLA settings page in the workspace."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aftersales.exceptions import ApplicationError
from shops.models import Shop
from shops.selectors import admin_shop
from shops.services import shop_sla_update
from shops.sla import PRIORITIES, WEEKDAYS, sla_public
from sla.services import survey_answer, survey_get
from tickets.views import login_required


@require_http_methods(["GET", "POST"])
def survey(request, token):
    row = survey_get(token=token)
    if row is None:
        raise Http404("No such survey.")
    context = {"survey": row, "ticket": row.ticket, "error": None, "stars": range(1, 6)}
    if request.method == "POST" and row.answered_at is None:
        try:
            row = survey_answer(token=token, score=request.POST.get("score"), comment=request.POST.get("comment", ""))
            context.update(survey=row, thanks=True)
        except ApplicationError as exc:
            context["error"] = exc.fields.get("score") if exc.fields else exc.message
            if exc.code == "already_answered":
                row.refresh_from_db()
    elif request.method == "POST":
        context["error"] = _("This survey has already been answered.")
    status = 409 if request.method == "POST" and context["error"] and row.answered_at else 400 if context["error"] else 200
    return render(request, "sla/survey.html", context, status=status)


def _admin_shop(request, code) -> Shop:
    shop = admin_shop(user=request.user, code=code)
    if shop is None:
        raise Http404("No such shop.")
    return shop


def _form_to_settings(post) -> dict:
    """The settings page's fields -> an SLA body for shop_sla_update."""
    def whole(name):
        value = post.get(name, "").strip()
        try:
            return int(value)
        except ValueError:
            return value  # validation reports it

    hours = {}
    for day in WEEKDAYS:
        opens, closes = post.get(f"{day}_open", "").strip(), post.get(f"{day}_close", "").strip()
        hours[day] = [opens, closes] if (opens or closes) else None
    data = {
        "timezone": post.get("timezone", "").strip(),
        "business_hours": hours,
        "holiday_calendar": "cn" if post.get("holiday_calendar") == "cn" else None,
        "contact_window": [post.get("contact_open", "").strip(), post.get("contact_close", "").strip()],
        "max_contacts_per_day": whole("max_contacts_per_day"),
        "extra_holidays": [d.strip() for d in post.get("extra_holidays", "").split(",") if d.strip()],
        "extra_workdays": [d.strip() for d in post.get("extra_workdays", "").split(",") if d.strip()],
        "targets": {
            p: {"first_response_minutes": whole(f"{p}_first"), "resolution_minutes": whole(f"{p}_resolution"),
                "business_time": post.get(f"{p}_business") == "on"}
            for p in PRIORITIES
        },
    }
    overrides = post.get("dispute_type_targets", "").strip()
    if overrides:
        try:
            data["dispute_type_targets"] = json.loads(overrides)
        except ValueError:
            data["dispute_type_targets"] = "invalid"
    return data


@login_required
@require_http_methods(["GET", "POST"])
def sla_settings(request, code):
    shop = _admin_shop(request, code)
    errors = {}
    if request.method == "POST":
        try:
            shop_sla_update(shop=shop, data=_form_to_settings(request.POST), replace=False)
            messages.success(request, _("SLA settings saved. New targets apply to tickets created from now on."))
            return redirect("sla-settings", code=shop.code)
        except ApplicationError as exc:
            errors = exc.fields or {"non_field_errors": exc.message}
    sla = sla_public(shop)
    return render(request, "sla/settings.html", {
        "shop": shop, "sla": sla, "errors": errors, "weekdays": WEEKDAYS, "priorities": PRIORITIES,
        "overrides_json": json.dumps(sla.get("dispute_type_targets") or {}, ensure_ascii=False),
    }, status=400 if errors else 200)
