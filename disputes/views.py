"""Workspace pages for disputes: the judgment and compensation panels of the ticket page, the
supervisor's approval inbox, the shop policy page and the webhook delivery log.

Thin views over disputes.services, in the same shape as tickets/views.py: a form posts, the
service decides, and the answer is the refreshed ticket partial (htmx) or a redirect.
"""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.auth import login_required
from aftersales.exceptions import ApplicationError
from disputes import selectors, services
from disputes.facts import Policy, field_names
from disputes.models import Compensation, CompensationStatus, CompensationType, Party, ShopPolicy
from shops.models import Shop
from shops.permissions import is_shop_admin
from shops.selectors import shop_and_role, shop_ids_for_user
from tickets.models import DisputeType
from tickets.selectors import ticket_get
from tickets.services import Actor
from tickets.views import _after_post
from webhooks.models import WebhookAttempt, WebhookEndpoint

ERROR_MESSAGES = {
    "override_needs_note": lambda: _(
        "Your judgment differs from the suggestion: say why in the note."
    ),
    "evidence_required": lambda: _(
        "A clear photo of the problem is required before compensating this dispute."
    ),
    "amount_exceeds_refundable": lambda: _(
        "The refunds would exceed the refundable total of the affected items."
    ),
    "review_conditioned_not_allowed": lambda: _(
        "Compensation conditioned on a good review is not allowed."
    ),
    "not_allowed": lambda: _("Only a supervisor or an admin can decide on compensation."),
    "illegal_state": lambda: _(
        "This compensation has already been decided or can no longer change."
    ),
}


# The fields of the services' errors as the workspace forms label them.
FIELD_LABELS = {
    "amount": gettext_lazy("Amount"),
    "type": gettext_lazy("Kind of compensation"),
    "offered": gettext_lazy("Options offered"),
    "note": gettext_lazy("Note"),
    "reason": gettext_lazy("Why it failed"),
    "party": gettext_lazy("Responsible party"),
}


def error_text(exc: ApplicationError) -> str:
    message = ERROR_MESSAGES.get(exc.code)
    if exc.fields:  # the fields say what is wrong; the generic sentence adds nothing
        return " ".join(field_error_text(name, reason) for name, reason in exc.fields.items())
    return message() if message else exc.message


def field_error_text(name: str, reason: str) -> str:
    return _("%(field)s: %(reason)s") % {"field": FIELD_LABELS.get(name, name), "reason": reason}


def parse_amount(raw: str) -> Decimal | None:
    """A money amount from a form as typed (services.amount_error judges it), or None when it is
    not a decimal number at all (blank, words, NaN, infinity)."""
    try:
        value = Decimal((raw or "").strip().replace(",", "").replace("¥", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@login_required
@require_GET
def dispute_panels(request, number: str):
    """The judgment and compensation panels, loaded into the ticket page after it renders."""
    ticket = ticket_get(user=request.user, number=number)
    context = {
        **selectors.judgment_panel_context(ticket=ticket),
        **selectors.compensation_panel_context(
            ticket=ticket, user=request.user, params=request.GET
        ),
    }
    return render(request, "disputes/_panels.html", context)


# --- ticket page: judgment ----------------------------------------------------------------------


@login_required
@require_POST
def judgment_record(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    party = request.POST.get("party", "")
    try:
        services.judgment_create(
            ticket=ticket,
            party=party,
            actor=Actor.staff(request.user),
            reason=request.POST.get("reason", "").strip(),
            note=request.POST.get("note", "").strip(),
        )
    except ApplicationError as exc:
        if exc.code == "validation_error" and exc.fields and "party" in exc.fields:
            messages.error(request, _("Choose who is responsible."))
        else:
            messages.error(request, error_text(exc))
        return _after_post(request, number)
    messages.success(
        request, _("Responsibility recorded: %(party)s.") % {"party": Party(party).label}
    )
    return _after_post(request, number)


# --- ticket page: compensation ------------------------------------------------------------------


@login_required
@require_GET
def compensation_panel(request, number: str):
    """The compensation panel alone, for the walk's inputs (usable, refused goodwill, quote)."""
    ticket = ticket_get(user=request.user, number=number)
    return render(
        request,
        "disputes/_compensation_panel.html",
        selectors.compensation_panel_context(ticket=ticket, user=request.user, params=request.GET),
    )


@login_required
@require_GET
def compensation_list(request, number: str):
    """The ticket's compensations with their status; the ticket page polls it."""
    ticket = ticket_get(user=request.user, number=number)
    return render(
        request,
        "disputes/_compensation_list.html",
        selectors.compensation_list_context(ticket=ticket, user=request.user),
    )


def _proposal_refused(request, ticket, text: str):
    """The "other amount" form again, with what was typed and why it was refused: htmx swaps the
    compensation panel alone (the rest of the ticket page is unchanged)."""
    proposal = {
        "type": request.POST.get("type", ""),
        "amount": request.POST.get("amount", "")[:50],
        "note": request.POST.get("note", ""),
        "error": text,
    }
    if not request.htmx:
        messages.error(request, text)
        return _after_post(request, ticket.number)
    context = selectors.compensation_panel_context(ticket=ticket, user=request.user, params={})
    response = render(
        request, "disputes/_compensation_panel.html", {**context, "proposal": proposal}
    )
    response["HX-Retarget"] = "#compensation-panel"
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
def compensation_propose(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    kind = request.POST.get("type", "")
    amount = parse_amount(request.POST.get("amount", ""))
    custom = request.POST.get("form") == "custom"

    def refused(text: str):
        if custom:
            return _proposal_refused(request, ticket, text)
        messages.error(request, text)
        return _after_post(request, number)

    if kind not in CompensationType.values:
        return refused(_("Choose a kind of compensation."))
    if amount is None:
        return refused(field_error_text("amount", _("Enter a number of yuan, e.g. 5.00.")))
    offered = []
    for raw in request.POST.getlist("offered"):
        offered_type, _sep, offered_amount = raw.partition(":")
        offered.append({"type": offered_type, "amount": offered_amount})
    try:
        compensation = services.compensation_propose(
            ticket=ticket,
            type=kind,
            amount=amount,
            actor=Actor.staff(request.user),
            note=request.POST.get("note", "").strip(),
            condition=request.POST.get("condition", "").strip()[:50],
            offered=offered or None,
        )
    except ApplicationError as exc:
        return refused(error_text(exc))
    messages.success(request, proposed_text(compensation))
    return _after_post(request, number)


def proposed_text(compensation: Compensation) -> str:
    """What happened to a proposal, as it is: only a webhook queued to a live endpoint is "sent"."""
    amount = {"amount": compensation.amount}
    if compensation.status == CompensationStatus.PENDING_APPROVAL:
        return _("Proposed ¥%(amount)s; it waits for a supervisor's approval.") % amount
    if compensation.status == CompensationStatus.EXECUTING:
        return _("¥%(amount)s approved and sent to the shop.") % amount
    return (
        _(
            "¥%(amount)s approved; it waits for the shop to execute it. Mark it executed here when it is done."
        )
        % amount
    )


def _report_executed(*, compensation, actor, note, post):
    return services.compensation_report_executed(
        compensation=compensation,
        actor=actor,
        external_ref=post.get("external_ref", "").strip()[:100],
    )


def _report_failed(*, compensation, actor, note, post):
    return services.compensation_report_failed(
        compensation=compensation, actor=actor, reason=post.get("reason", "").strip()
    )


DECISIONS = {
    "approve": lambda *, post, **kwargs: services.compensation_approve(**kwargs),
    "reject": lambda *, post, **kwargs: services.compensation_reject(**kwargs),
    "cancel": lambda *, post, **kwargs: services.compensation_cancel(**kwargs),
    # An approved compensation no endpoint was told about: staff record what the shop did.
    "executed": _report_executed,
    "failed": _report_failed,
}


@login_required
@require_POST
def compensation_decide(request, compensation_id: int, decision: str):
    compensation = (
        Compensation.objects.select_related("ticket")
        .filter(pk=compensation_id, ticket__shop_id__in=shop_ids_for_user(user=request.user))
        .first()
    )
    if compensation is None or decision not in DECISIONS:
        raise Http404("No such compensation.")
    note = request.POST.get("note", "").strip()
    if decision in ("executed", "failed") and compensation.status != CompensationStatus.APPROVED:
        # Sent to the shop (executing): its backend reports back, not the workspace.
        messages.error(
            request, _("Only an approved compensation that waits for the shop can be marked here.")
        )
        return _after_post(request, compensation.ticket.number)
    try:
        decided = DECISIONS[decision](
            compensation=compensation, actor=Actor.staff(request.user), note=note, post=request.POST
        )
    except ApplicationError as exc:
        blank = (
            exc.code == "validation_error"
            and exc.fields
            and not (note or request.POST.get("reason", "").strip())
        )
        if blank and "note" in exc.fields:
            messages.error(request, _("Say why it is rejected in the note."))
        elif blank and "reason" in exc.fields:
            messages.error(request, _("Say why it failed."))
        else:
            messages.error(request, error_text(exc))
    else:
        done = {
            "approve": _("Approved and sent to the shop.")
            if decided.status == CompensationStatus.EXECUTING
            else _("Approved; it waits for the shop to execute it."),
            "reject": _("Rejected."),
            "cancel": _("Cancelled."),
            "executed": _("Marked executed."),
            "failed": _("Marked failed."),
        }[decision]
        messages.success(request, f"{compensation.ticket.number}: {done}")
    if request.POST.get("next") == "inbox":
        if request.htmx:
            return render(
                request,
                "disputes/_approval_list.html",
                selectors.approval_inbox_context(user=request.user),
            )
        return redirect("disputes:approvals")
    return _after_post(request, compensation.ticket.number)


# --- supervisor inbox ---------------------------------------------------------------------------


@login_required
@require_GET
def approvals(request):
    context = selectors.approval_inbox_context(user=request.user)
    if not context["decider_shop_ids"]:
        raise PermissionDenied(_("Only supervisors and admins have an approval inbox."))
    return render(request, "disputes/approvals.html", context)


# --- shop policy --------------------------------------------------------------------------------


def _admin_shop(request, code: str) -> Shop:
    shop, role = shop_and_role(user=request.user, code=code)
    if shop is None:
        raise Http404("No such shop.")
    if not is_shop_admin(role):
        raise PermissionDenied(_("Only the shop's admins can change its policy."))
    return shop


@login_required
@require_http_methods(["GET", "POST"])
def shop_policy(request, code: str):
    shop = _admin_shop(request, code)
    current = services.policy_current(shop=shop)
    values, errors = dict(current.values), {}
    if request.method == "POST":
        changes = {
            name: request.POST[name].strip() for name in field_names() if name in request.POST
        }
        try:
            updated = services.policy_update(
                shop=shop, changes=changes, actor=Actor.staff(request.user)
            )
        except ApplicationError as exc:
            errors = exc.fields or {}
            values.update(changes)
            labels = ", ".join(f"“{selectors.POLICY_LABELS.get(name, name)}”" for name in errors)
            messages.error(
                request, _("The policy was not saved: correct %(fields)s.") % {"fields": labels}
            )
        else:
            if updated.version == current.version:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(
                    request, _("Saved as version %(version)s.") % {"version": updated.version}
                )
            return redirect("disputes:shop-policy", code=shop.code)
    defaults = Policy().as_dict()
    fields = [
        (
            name,
            selectors.POLICY_LABELS.get(name, name),
            values.get(name, defaults[name]),
            defaults[name],
            errors.get(name, ""),
        )
        for name in field_names()
    ]
    versions = (
        ShopPolicy.objects.filter(shop=shop)
        .select_related("created_by")
        .annotate(compensation_count=Count("compensations"))
        .order_by("-version")[:50]
    )
    return render(
        request,
        "disputes/shop_policy.html",
        {"shop": shop, "current": current, "fields": fields, "versions": versions},
        status=400 if errors else 200,
    )


# --- dispute type catalogue --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def shop_dispute_types(request, code: str):
    shop = _admin_shop(request, code)
    form, errors, form_photo = {}, {}, ""
    if request.method == "POST":
        form = {
            key: request.POST.get(key, "").strip()
            for key in ("code", "name_zh", "name_en", "rules_as", "default_priority")
        }
        photo = request.POST.get("photo_required")
        form_photo = photo if photo in ("0", "1") else ""
        try:
            created = services.dispute_type_create(
                shop=shop, **form, photo_required=None if photo in (None, "") else photo == "1"
            )
        except ApplicationError as exc:
            errors = exc.fields or {}
            labels = ", ".join(f"“{DISPUTE_TYPE_LABELS.get(name, name)}”" for name in errors)
            messages.error(
                request,
                _("The dispute type was not added: correct %(fields)s.") % {"fields": labels},
            )
        else:
            messages.success(
                request, _("Added the dispute type %(code)s.") % {"code": created.code}
            )
            return redirect("disputes:shop-dispute-types", code=shop.code)
    types = list(
        DisputeType.objects.filter(Q(shop__isnull=True) | Q(shop=shop)).order_by(
            F("shop_id").asc(nulls_first=True), "category", "code"
        )
    )
    names = {t.code: t.name for t in types if t.shop_id is None}
    for t in types:
        t.rules_name = names.get(t.rule_code, t.rule_code)
    return render(
        request,
        "disputes/dispute_types.html",
        {
            "shop": shop,
            "types": types,
            "standard_types": [t for t in types if t.shop_id is None],
            "form": form,
            "form_photo": form_photo,
            "errors": errors,
            "priorities": services.PRIORITIES,
        },
        status=400 if errors else 200,
    )


# The dispute-type form's fields as the page labels them.
DISPUTE_TYPE_LABELS = {
    "code": gettext_lazy("Code"),
    "name_zh": gettext_lazy("Chinese name"),
    "name_en": gettext_lazy("English name"),
    "rules_as": gettext_lazy("Follows the rules of"),
    "default_priority": gettext_lazy("Default priority"),
}


# --- webhook delivery log -----------------------------------------------------------------------


@login_required
@require_GET
def webhook_log(request):
    user = request.user
    shop_ids = (
        shop_ids_for_user(user=user) if user.is_superuser else selectors.decider_shop_ids(user=user)
    )
    if not shop_ids:
        raise PermissionDenied(_("Only supervisors and admins see the webhook log."))
    endpoints = (
        WebhookEndpoint.objects.filter(shop_id__in=shop_ids)
        .select_related("shop")
        .order_by("shop__code", "id")
    )
    attempts = (
        WebhookAttempt.objects.filter(delivery__endpoint__shop_id__in=shop_ids)
        .select_related("delivery__event", "delivery__endpoint")
        .order_by("-attempted_at", "-id")[:200]
    )
    return render(request, "webhooks/log.html", {"endpoints": endpoints, "attempts": attempts})
