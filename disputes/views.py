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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from disputes import selectors, services
from disputes.facts import Policy, field_names
from disputes.models import Compensation, CompensationStatus, CompensationType, DisputeType, Party, ShopPolicy
from shops.models import Role, Shop
from shops.selectors import shop_and_role, shop_ids_for_user
from tickets.selectors import ticket_get
from tickets.services import Actor
from tickets.views import _after_post, login_required
from webhooks.models import WebhookAttempt, WebhookEndpoint

ERROR_MESSAGES = {
    "override_needs_note": lambda: _("Your judgment differs from the suggestion: say why in the note."),
    "evidence_required": lambda: _("A clear photo of the problem is required before compensating this dispute."),
    "amount_exceeds_refundable": lambda: _("The refunds would exceed the refundable total of the affected items."),
    "review_conditioned_not_allowed": lambda: _("Compensation conditioned on a good review is not allowed."),
    "not_allowed": lambda: _("Only a supervisor or an admin can decide on compensation."),
    "illegal_state": lambda: _("This compensation has already been decided or can no longer change."),
}


def error_text(exc: ApplicationError) -> str:
    message = ERROR_MESSAGES.get(exc.code)
    text = message() if message else exc.message
    if exc.fields:
        text += " " + " ".join(f"{name}: {reason}" for name, reason in exc.fields.items())
    return text


def parse_amount(raw: str) -> Decimal | None:
    """A non-negative money amount from a form, or None (blank, words, NaN, more than 2 places)."""
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return value.quantize(Decimal("0.01"))


@login_required
@require_GET
def dispute_panels(request, number: str):
    """The judgment and compensation panels, loaded into the ticket page after it renders."""
    ticket = ticket_get(user=request.user, number=number)
    context = {
        **selectors.judgment_panel_context(ticket=ticket),
        **selectors.compensation_panel_context(ticket=ticket, user=request.user, params=request.GET),
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
            reason=request.POST.get("reason", "").strip()[:2000],
            note=request.POST.get("note", "").strip()[:2000],
        )
    except ApplicationError as exc:
        if exc.code == "validation_error" and exc.fields and "party" in exc.fields:
            messages.error(request, _("Choose who is responsible."))
        else:
            messages.error(request, error_text(exc))
        return _after_post(request, number)
    messages.success(request, _("Responsibility recorded: %(party)s.") % {"party": Party(party).label})
    return _after_post(request, number)


# --- ticket page: compensation ------------------------------------------------------------------


@login_required
@require_GET
def compensation_panel(request, number: str):
    """The compensation panel alone, for the walk's inputs (usable, refused goodwill, quote)."""
    ticket = ticket_get(user=request.user, number=number)
    return render(request, "disputes/_compensation_panel.html", selectors.compensation_panel_context(ticket=ticket, user=request.user, params=request.GET))


@login_required
@require_GET
def compensation_list(request, number: str):
    """The ticket's compensations with their status; the ticket page polls it."""
    ticket = ticket_get(user=request.user, number=number)
    return render(request, "disputes/_compensation_list.html", selectors.compensation_list_context(ticket=ticket, user=request.user))


@login_required
@require_POST
def compensation_propose(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    kind = request.POST.get("type", "")
    amount = parse_amount(request.POST.get("amount", ""))
    if kind not in CompensationType.values:
        messages.error(request, _("Choose a kind of compensation."))
        return _after_post(request, number)
    if amount is None:
        messages.error(request, _("Enter the amount as a number of yuan, not negative, at most 2 decimals (e.g. 5.00)."))
        return _after_post(request, number)
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
            note=request.POST.get("note", "").strip()[:2000],
            condition=request.POST.get("condition", "").strip()[:50],
            offered=offered or None,
        )
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
        return _after_post(request, number)
    if compensation.status == CompensationStatus.PENDING_APPROVAL:
        messages.success(request, _("Proposed ¥%(amount)s; it waits for a supervisor's approval.") % {"amount": amount})
    else:
        messages.success(request, _("¥%(amount)s approved and sent to the shop.") % {"amount": amount})
    return _after_post(request, number)


DECISIONS = {
    "approve": services.compensation_approve,
    "reject": services.compensation_reject,
    "cancel": services.compensation_cancel,
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
    note = request.POST.get("note", "").strip()[:2000]
    try:
        DECISIONS[decision](compensation=compensation, actor=Actor.staff(request.user), note=note)
    except ApplicationError as exc:
        if exc.code == "validation_error" and exc.fields and "note" in exc.fields:
            messages.error(request, _("Say why it is rejected in the note."))
        else:
            messages.error(request, error_text(exc))
    else:
        done = {"approve": _("Approved."), "reject": _("Rejected."), "cancel": _("Cancelled.")}[decision]
        messages.success(request, f"{compensation.ticket.number}: {done}")
    if request.POST.get("next") == "inbox":
        if request.htmx:
            return render(request, "disputes/_approval_list.html", selectors.approval_inbox_context(user=request.user))
        return redirect("disputes:approvals")
    return _after_post(request, compensation.ticket.number)


# --- supervisor inbox ---------------------------------------------------------------------------


@login_required
@require_GET
def approvals(request):
    context = selectors.approval_inbox_context(user=request.user)
    if not context["decider_shop_ids"]:
        raise PermissionDenied("Only supervisors and admins have an approval inbox.")
    return render(request, "disputes/approvals.html", context)


# --- shop policy --------------------------------------------------------------------------------


def _admin_shop(request, code: str) -> Shop:
    shop, role = shop_and_role(user=request.user, code=code)
    if shop is None:
        raise Http404("No such shop.")
    if role != Role.ADMIN:
        raise PermissionDenied("Only the shop's admins can change its policy.")
    return shop


@login_required
@require_http_methods(["GET", "POST"])
def shop_policy(request, code: str):
    shop = _admin_shop(request, code)
    current = services.policy_current(shop=shop)
    values, errors = dict(current.values), {}
    if request.method == "POST":
        changes = {name: request.POST[name].strip() for name in field_names() if name in request.POST}
        try:
            updated = services.policy_update(shop=shop, changes=changes, actor=Actor.staff(request.user))
        except ApplicationError as exc:
            errors = exc.fields or {}
            values.update(changes)
            messages.error(request, _("The policy was not saved: correct the marked fields."))
        else:
            if updated.version == current.version:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(request, _("Saved as version %(version)s.") % {"version": updated.version})
            return redirect("disputes:shop-policy", code=shop.code)
    defaults = Policy().as_dict()
    fields = [
        (name, selectors.POLICY_LABELS.get(name, name), values.get(name, defaults[name]), defaults[name], errors.get(name, ""))
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
    form, errors = {}, {}
    if request.method == "POST":
        form = {key: request.POST.get(key, "").strip() for key in ("code", "name_zh", "name_en", "rules_as", "default_priority")}
        photo = request.POST.get("photo_required")
        try:
            created = services.dispute_type_create(
                shop=shop, **form, photo_required=None if photo in (None, "") else photo == "1"
            )
        except ApplicationError as exc:
            errors = exc.fields or {}
            messages.error(request, _("The dispute type was not added: correct the marked fields."))
        else:
            messages.success(request, _("Added the dispute type %(code)s.") % {"code": created.code})
            return redirect("disputes:shop-dispute-types", code=shop.code)
    types = DisputeType.objects.filter(Q(shop__isnull=True) | Q(shop=shop)).order_by(F("shop_id").asc(nulls_first=True), "category", "code")
    return render(
        request,
        "disputes/dispute_types.html",
        {
            "shop": shop,
            "types": types,
            "standard_types": [t for t in types if t.shop_id is None],
            "form": form,
            "errors": errors,
            "priorities": services.PRIORITIES,
        },
        status=400 if errors else 200,
    )


# --- webhook delivery log -----------------------------------------------------------------------


@login_required
@require_GET
def webhook_log(request):
    user = request.user
    shop_ids = shop_ids_for_user(user=user) if user.is_superuser else selectors.decider_shop_ids(user=user)
    if not shop_ids:
        raise PermissionDenied("Only supervisors and admins see the webhook log.")
    endpoints = WebhookEndpoint.objects.filter(shop_id__in=shop_ids).select_related("shop").order_by("shop__code", "id")
    attempts = (
        WebhookAttempt.objects.filter(delivery__endpoint__shop_id__in=shop_ids)
        .select_related("delivery__event", "delivery__endpoint")
        .order_by("-attempted_at", "-id")[:200]
    )
    return render(request, "webhooks/log.html", {"endpoints": endpoints, "attempts": attempts})

