"""The workspace: the availability toggle in the nav, and a shop's assignment settings page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.auth import login_required, redirect_back
from aftersales.exceptions import ApplicationError
from assignment.models import Mode
from assignment.selectors import dispute_types_for_skills, shop_staff_for_assignment
from assignment.services import (
    assignment_public,
    assignment_settings_get,
    assignment_settings_update,
    availability_set,
)
from shops.selectors import admin_shop

FIELD_LABELS = {
    "mode": gettext_lazy("Mode"),
    "max_open_per_agent": gettext_lazy("Open tickets per agent, at most"),
    "skills": gettext_lazy("Skills"),
}


@login_required
@require_POST
def availability(request):
    state = availability_set(user=request.user, available=request.POST.get("available") == "1")
    if state.available:
        messages.success(request, _("You are available: new tickets can come to you."))
    else:
        messages.success(request, _("You are away: no new tickets will come to you."))
    return redirect_back(request, "workspace:queue")


def _form_to_data(post, usernames: list[str]) -> dict:
    cap = post.get("max_open_per_agent", "").strip()
    cap = int(cap) if cap.isascii() and cap.isdigit() else cap  # otherwise validation reports it
    skills = {}
    for username in usernames:
        codes = post.getlist(f"skills:{username}")
        if codes:
            skills[username] = codes
    return {"mode": post.get("mode", ""), "max_open_per_agent": cap, "skills": skills}


@login_required
@require_http_methods(["GET", "POST"])
def assignment_settings(request, code):
    shop = admin_shop(user=request.user, code=code)
    staff = shop_staff_for_assignment(shop=shop)
    current = assignment_public(assignment_settings_get(shop=shop))
    errors = {}
    if request.method == "POST":
        data = _form_to_data(request.POST, [row["username"] for row in staff])
        try:
            assignment_settings_update(shop=shop, data=data)
            messages.success(request, _("Assignment settings saved."))
            return redirect("assignment:settings", code=shop.code)
        except ApplicationError as exc:
            errors = exc.fields or {"non_field_errors": [exc.message]}
            current = {**current, **data}
    types = dispute_types_for_skills(shop=shop)
    for row in staff:
        chosen = set(current["skills"].get(row["username"], []))
        row["skills"] = [(t, t.code in chosen) for t in types]
    return render(
        request,
        "assignment/settings.html",
        {
            "shop": shop,
            "current": current,
            "modes": Mode.choices,
            "staff": staff,
            "errors": [
                (key, str(FIELD_LABELS.get(key, "")), message)
                for key, messages_ in errors.items()
                for message in (messages_ if isinstance(messages_, list) else [messages_])
            ],
        },
        status=400 if errors else 200,
    )
