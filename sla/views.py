"""The customer's satisfaction survey (public, reached by its token, no login) and the
shop admin's SLA settings page in the workspace."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from aftersales.auth import login_required
from aftersales.exceptions import ApplicationError
from shops.selectors import admin_shop
from shops.services import shop_sla_update
from shops.sla import PRIORITIES, WEEKDAYS, sla_public
from sla.models import Timer, TimerState
from sla.services import survey_answer, survey_get
from tickets.states import Priority


@require_http_methods(["GET", "POST"])
def survey(request, token):
    row = survey_get(token=token)
    if row is None:
        raise Http404("No such survey.")
    context = {"survey": row, "ticket": row.ticket, "error": None, "stars": range(1, 6)}
    if request.method == "POST" and row.answered_at is None:
        try:
            row = survey_answer(
                token=token,
                score=request.POST.get("score"),
                comment=request.POST.get("comment", ""),
            )
            context.update(survey=row, thanks=True)
        except ApplicationError as exc:
            context["error"] = exc.fields.get("score") if exc.fields else exc.message
            if exc.code == "already_answered":
                row.refresh_from_db()
    elif request.method == "POST":
        context["error"] = _("This survey has already been answered.")
    status = (
        409
        if request.method == "POST" and context["error"] and row.answered_at
        else 400
        if context["error"]
        else 200
    )
    return render(request, "sla/survey.html", context, status=status)


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
        "contact_window": [
            post.get("contact_open", "").strip(),
            post.get("contact_close", "").strip(),
        ],
        "max_contacts_per_day": whole("max_contacts_per_day"),
        "extra_holidays": [
            d.strip() for d in post.get("extra_holidays", "").split(",") if d.strip()
        ],
        "extra_workdays": [
            d.strip() for d in post.get("extra_workdays", "").split(",") if d.strip()
        ],
        "targets": {
            p: {
                "first_response_minutes": whole(f"{p}_first"),
                "resolution_minutes": whole(f"{p}_resolution"),
                "business_time": post.get(f"{p}_business") == "on",
            }
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


WEEKDAY_LABELS = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
# The page's own labels, by the setting's key, for naming a field in an error.
FIELD_LABELS = {
    "timezone": gettext_lazy("Time zone"),
    "business_hours": gettext_lazy("Business hours"),
    "holiday_calendar": gettext_lazy("Chinese statutory holidays and make-up working days"),
    "extra_holidays": gettext_lazy("Extra holidays"),
    "extra_workdays": gettext_lazy("Extra working days"),
    "targets": gettext_lazy("Targets"),
    "dispute_type_targets": gettext_lazy("Per dispute type (JSON)"),
    "contact_window": gettext_lazy("Contact window"),
    "max_contacts_per_day": gettext_lazy("At most, per customer per day"),
}


def _field_label(key: str) -> str:
    """'targets.normal' -> 'Targets · Normal', 'business_hours.mon' -> 'Business hours · Monday'."""
    head, _dot, tail = key.partition(".")
    label = str(FIELD_LABELS.get(head, "")) if head != "non_field_errors" else ""
    if tail:
        part = WEEKDAY_LABELS.get(tail) or (
            Priority(tail).label if tail in Priority.values else tail
        )
        label = f"{label} · {part}" if label else str(part)
    return label


def _typed(post, sla: dict) -> dict:
    """What the admin typed, over the stored settings, so a refused form keeps their input."""
    typed = dict(sla)
    typed["timezone"] = post.get("timezone", "")
    typed["holiday_calendar"] = "cn" if post.get("holiday_calendar") == "cn" else None
    typed["business_hours"] = {
        d: [post.get(f"{d}_open", ""), post.get(f"{d}_close", "")] for d in WEEKDAYS
    }
    typed["extra_holidays"] = [post.get("extra_holidays", "")]
    typed["extra_workdays"] = [post.get("extra_workdays", "")]
    typed["targets"] = {
        p: {
            "first_response_minutes": post.get(f"{p}_first", ""),
            "resolution_minutes": post.get(f"{p}_resolution", ""),
            "business_time": post.get(f"{p}_business") == "on",
        }
        for p in PRIORITIES
    }
    typed["contact_window"] = [post.get("contact_open", ""), post.get("contact_close", "")]
    typed["max_contacts_per_day"] = post.get("max_contacts_per_day", "")
    return typed


@login_required
@require_http_methods(["GET", "POST"])
def sla_settings(request, code):
    shop = admin_shop(user=request.user, code=code)
    errors = {}
    sla = sla_public(shop)
    overrides_json = json.dumps(sla.get("dispute_type_targets") or {}, ensure_ascii=False)
    if request.method == "POST":
        try:
            shop_sla_update(shop=shop, data=_form_to_settings(request.POST), replace=False)
            messages.success(
                request, _("SLA settings saved. New targets apply to tickets created from now on.")
            )
            return redirect("sla-settings", code=shop.code)
        except ApplicationError as exc:
            errors = exc.fields or {"non_field_errors": exc.message}
            sla = _typed(request.POST, sla)
            overrides_json = request.POST.get("dispute_type_targets", "")
    parked = (
        Timer.objects.filter(ticket__shop=shop, state=TimerState.PARKED)
        .select_related("ticket")
        .order_by("-done_at")[:20]
    )
    return render(
        request,
        "sla/settings.html",
        {
            "shop": shop,
            "sla": sla,
            "overrides_json": overrides_json,
            "parked": list(parked),
            "errors": [(key, _field_label(key), message) for key, message in errors.items()],
            "hours_rows": [
                (day, WEEKDAY_LABELS[day], (sla["business_hours"].get(day) or [None, None]))
                for day in WEEKDAYS
            ],
            "target_rows": [(p, Priority(p).label, sla["targets"][p]) for p in PRIORITIES],
        },
        status=400 if errors else 200,
    )
