"""The agent workspace: server-rendered pages, htmx partials for in-place updates.

Views are thin: parse a form, call one service, render or redirect. Every form works without
JavaScript (POST, then redirect to the ticket page); with htmx the same view answers with the
ticket partial, which replaces the page's content in place.
"""

import copy
import hashlib

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from aftersales import hooks
from aftersales.auth import login_required, redirect_back
from aftersales.exceptions import ApplicationError
from aftersales.prefetch import set_prefetched
from shops.selectors import member_shops, shop_and_role, shop_ids_for_user, shop_staff
from tickets import services
from tickets.forms import (
    STATUS_ALL,
    AttachmentForm,
    LogisticsReturnForm,
    MergeForm,
    QueueFilterForm,
    ReplyForm,
    TransitionForm,
    queue_filter_query,
)
from tickets.macros import macro_action_words, macro_apply
from tickets.models import Attachment, LogisticsEvent, ReplyTemplate, Ticket
from tickets.presence import presence_beat, presence_leave
from tickets.reply_templates import reply_template_fill, reply_template_values
from tickets.selectors import (
    CUSTOMER_TICKETS_LIMIT,
    customer_get,
    customer_orders,
    customer_orders_count,
    customer_risk_flags,
    customer_tickets,
    customer_tickets_count,
    duplicate_suggestions,
    merged_sources_for_page,
    queue_lists,
    queue_tickets,
    reply_template_of_shop,
    reply_templates_of_shop,
    sla_breached,
    ticket_events,
    ticket_get,
    ticket_own_attachments,
    tickets_attach_shared,
)
from tickets.states import Action, Status, available_actions

User = get_user_model()

QUEUE_PAGE_SIZE = 25
# Button labels: in Chinese the verb differs from the status it leads to ("Open" → 开始处理 / 处理中).
ACTION_LABELS = {
    Action.OPEN: pgettext_lazy("ticket action", "Open"),
    Action.WAIT_CUSTOMER: pgettext_lazy("ticket action", "Wait for customer"),
    Action.WAIT_INTERNAL: pgettext_lazy("ticket action", "Wait for internal team"),
    Action.RESOLVE: pgettext_lazy("ticket action", "Resolve"),
    Action.CLOSE: pgettext_lazy("ticket action", "Close"),
    Action.REOPEN: pgettext_lazy("ticket action", "Reopen"),
}
# What the queue's bulk bar offers to do with the selected tickets (the everyday moves).
BULK_TRANSITIONS = (
    Action.OPEN,
    Action.WAIT_CUSTOMER,
    Action.WAIT_INTERNAL,
    Action.RESOLVE,
    Action.CLOSE,
)
REPLY_TEMPLATE_CATEGORIES = {
    "apology": gettext_lazy("Apology"),
    "verify": gettext_lazy("Verification"),
    "offer": gettext_lazy("Offer"),
    "refusal": gettext_lazy("Refusal"),
    "followup": gettext_lazy("Follow-up"),
}


@require_GET
def favicon(request):
    """/favicon.ico, for browsers and tools that ask for it instead of reading the page's <link rel=icon>."""
    return redirect(static("favicon.png"), permanent=True)


# --- Queue -------------------------------------------------------------------------------------


def queue_params(request) -> tuple[QueueFilterForm, dict, list[int]]:
    """The queue's filters from the query string, read the same way by the list and its CSV export
    (so the export has exactly the rows on screen)."""
    shop_ids = shop_ids_for_user(user=request.user)
    dispute_types = services.dispute_types_of_shops(shop_ids)
    form = QueueFilterForm(request.GET, dispute_types=dispute_types)
    filters = form.values()
    if filters["q"] and "status" not in request.GET:
        filters["status"] = (
            STATUS_ALL  # a search from the search box finds resolved and closed tickets too
        )
    return form, filters, shop_ids


def queue_version(tickets, has_next: bool) -> str:
    """What the rows on screen show, in a few characters: the live queue asks whether it changed."""
    seen = "|".join(
        f"{t.number}:{t.updated_at.timestamp()}:{t.status}:{t.assignee_id}:{t.priority}"
        f":{','.join(tag.name for tag in getattr(t, 'tag_list', ()))}"
        for t in tickets
    )
    return hashlib.blake2b(f"{seen}|{has_next}".encode(), digest_size=8).hexdigest()


@login_required
@require_GET
def queue(request):
    polled_version = request.GET.get("poll")
    if polled_version is not None:  # the live rows asking (below); not a filter
        request.GET = request.GET.copy()
        del request.GET["poll"]
    form, filters, shop_ids = queue_params(request)
    now = timezone.now()

    page = filters["page"]
    offset = (page - 1) * QUEUE_PAGE_SIZE
    lists = queue_lists(user=request.user, shop_ids=shop_ids)
    rows = list(
        queue_tickets(user=request.user, shop_ids=shop_ids, filters=filters, now=now)[
            offset : offset + QUEUE_PAGE_SIZE + 1
        ]
    )
    has_next = len(rows) > QUEUE_PAGE_SIZE
    rows = rows[:QUEUE_PAGE_SIZE]
    tickets_attach_shared(
        rows, shops=tuple(member_shops(request.user).values()), dispute_types=form.dispute_types
    )
    current_query = queue_filter_query(request.GET.urlencode())
    tag_names = list(dict.fromkeys(tag.name for tag in lists.tags))
    if filters["tag"] and filters["tag"] not in tag_names:
        tag_names.insert(0, filters["tag"])
    context = {
        "form": form,
        "filters": filters,
        "tickets": rows,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "now": now,
        "status_choices": form.fields["status"].choices,
        "tabs": form.fields["tab"].choices,
        "sorts": form.fields["sort"].choices,
        "priority_choices": form.fields["priority"].choices,
        "dispute_type_choices": form.fields["dispute_type"].choices,
        "tag_names": tag_names,
        "current_query": current_query,
        "saved_views": lists.saved_views,
        "colleagues": lists.colleagues,
        "bulk_transitions": [(action, ACTION_LABELS[action]) for action in BULK_TRANSITIONS],
    }
    context["queue_version"] = queue_version(context["tickets"], has_next)
    context["poll_url"] = request.path + (f"?{request.GET.urlencode()}" if request.GET else "")
    if polled_version is not None and request.htmx and request.htmx.target == "queue-rows":
        if polled_version == context["queue_version"]:
            return HttpResponse(status=204)  # nothing changed: htmx leaves the rows alone
        return render(request, "tickets/_queue_rows.html", context)
    # htmx: the filter form swaps the whole queue (#queue), the pager the results only; Back/Forward
    # (a history restore request) get the whole page.
    partials = {"queue": "tickets/_queue.html", "queue-results": "tickets/_queue_results.html"}
    partial = (
        partials.get(request.htmx.target)
        if request.htmx and not request.htmx.history_restore_request
        else None
    )
    return render(request, partial or "tickets/queue.html", context)


def _back_to_queue(request):
    """Back to the queue URL the form was sent from."""
    return redirect_back(request, "workspace:queue")


@login_required
@require_POST
def queue_bulk(request):
    """The queue's bulk bar: one action on the selected tickets through the same service as the
    API's bulk endpoint; the summary and each failure's reason come back as messages."""
    numbers = [n for n in request.POST.getlist("numbers") if n][: services.BULK_MAX_TICKETS]
    op = request.POST.get("op", "")
    action, value = {
        "assign_me": ("assign", request.user.get_username()),
        "assign": ("assign", request.POST.get("assignee") or None),
        "transition": ("transition", request.POST.get("transition", "")),
        "add_tag": ("add_tag", request.POST.get("tag", "")),
        "remove_tag": ("remove_tag", request.POST.get("tag", "")),
    }.get(op, (op, None))
    if not numbers:
        messages.error(request, _("Select tickets first."))
        return _back_to_queue(request)
    try:
        result = services.tickets_bulk(
            shop_ids=shop_ids_for_user(user=request.user),
            numbers=numbers,
            action=action,
            value=value,
            actor=services.Actor.staff(request.user),
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _back_to_queue(request)
    done, failed = len(result["done"]), len(result["failed"])
    summary = _("%(done)s done, %(failed)s failed.") % {"done": done, "failed": failed}
    (messages.warning if failed else messages.success)(request, summary)
    for failure in result["failed"]:
        messages.error(
            request,
            _("%(number)s: %(reason)s")
            % {"number": failure["number"], "reason": failure["error"]["message"]},
        )
    return _back_to_queue(request)


@login_required
@require_POST
def saved_view_save(request):
    """Save the queue's current filter under a name; the agent lands on it."""
    query = queue_filter_query(request.POST.get("query", ""))
    shop_ids = shop_ids_for_user(user=request.user)
    try:
        view = services.saved_view_create(
            user=request.user,
            name=request.POST.get("name", ""),
            query=query,
            shop_id=shop_ids[0] if len(shop_ids) == 1 else None,
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return redirect(resolve_url("workspace:queue") + (f"?{query}" if query else ""))
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(resolve_url("workspace:queue") + (f"?{view.query}" if view.query else ""))


@login_required
@require_POST
def saved_view_delete(request, pk: int):
    try:
        services.saved_view_delete(user=request.user, view_id=pk)
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, _("The saved view is deleted."))
    return _back_to_queue(request)


# --- Ticket page -------------------------------------------------------------------------------


def _ticket_context(ticket: Ticket, **extra) -> dict:
    # Listed here, and read by the features; one plain query (the prefetch machinery cost more).
    attachments = ticket_own_attachments(ticket=ticket)
    set_prefetched(ticket, "attachments", attachments)
    events = ticket_events(ticket=ticket)
    affected = {}
    for entry in ticket.affected_items or []:
        if isinstance(entry, dict) and entry.get("sku"):
            affected[entry["sku"]] = affected.get(entry["sku"], 0) + int(entry.get("quantity") or 0)
    items = [(item, affected.get(item.sku)) for item in ticket.order.items.all()]
    reply_templates = [copy.copy(template) for template in reply_templates_of_shop(ticket.shop_id)]
    groups: dict[str, list[ReplyTemplate]] = {key: [] for key in REPLY_TEMPLATE_CATEGORIES}
    values = reply_template_values(ticket) if reply_templates else {}
    for template in reply_templates:
        # What the picker puts in the reply box, in the template's language (the customer reads it).
        template.filled = reply_template_fill(template.body, values, language=template.language)
        template.action_words = "; ".join(macro_action_words(a) for a in template.actions or [])
        groups.setdefault(template.category, []).append(template)
    template_groups = [
        (REPLY_TEMPLATE_CATEGORIES.get(key, key), rows) for key, rows in groups.items() if rows
    ]
    return {
        "ticket": ticket,
        "items": items,
        "events": events,
        "latest_event_id": events[-1].pk if events else 0,
        "attachments": attachments,
        "reply_template_groups": template_groups,
        "staff": shop_staff(ticket.shop_id),
        "actions": [
            (action, ACTION_LABELS.get(action) or Action(action).label)
            for action in available_actions(ticket.status)
        ],
        "breached": sla_breached(ticket),
        "attachment_kinds": AttachmentForm.base_fields["kind"].choices,
        "return_events": [
            (value, label)
            for value, label in LogisticsEvent.Event.choices
            if value in LogisticsEvent.RETURN_EVENTS
        ],
        "return_reasons": LogisticsEvent.ReturnReason.choices,
        "follow_up_of": ticket.follow_up_of,
        # A merged duplicate links to its target; a target shows what was merged into it.
        "merged_into": ticket.merged_into,
        "merged_sources": merged_sources_for_page(ticket=ticket, events=events),
        "duplicates": duplicate_suggestions(ticket=ticket),
        "merge_into": "",
        "merge_note": "",
        # Only a closed ticket can have follow-ups.
        "follow_ups": list(ticket.follow_ups.order_by("id"))
        if ticket.status == Status.CLOSED
        else [],
        "now": timezone.now(),
        "reply_body": "",
        "reply_internal": False,
        # What the features show on the ticket (analytics: its batch alerts).
        **hooks.collect(hooks.TICKET_PAGE_CONTEXT, ticket=ticket),
        **extra,
    }


@login_required
@require_GET
def ticket_detail(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    draft = request.session.pop(_DRAFT_KEY, None)  # a refused reply, typed before the redirect
    extra = (
        {"reply_body": draft["body"], "reply_internal": draft["internal"]}
        if draft and draft.get("number") == number
        else {}
    )
    return render(request, "tickets/ticket_detail.html", _ticket_context(ticket, **extra))


_DRAFT_KEY = "ticket_reply_draft"


# --- Customer page -----------------------------------------------------------------------------


@login_required
@require_GET
def customer_detail(request, shop_code: str, external_id: str):
    """The customer's history in one shop, for its staff (anyone else: 404): tickets, orders, and
    what the features know (disputes: compensation and judgments; sla: the contact log)."""
    shop, _role = shop_and_role(user=request.user, code=shop_code)
    if shop is None:
        raise Http404("No such shop.")
    customer = customer_get(shop_id=shop.pk, external_id=external_id)
    tickets = customer_tickets(customer=customer)
    tickets_total = (
        customer_tickets_count(customer=customer)
        if len(tickets) >= CUSTOMER_TICKETS_LIMIT
        else len(tickets)
    )
    orders = customer_orders(customer=customer)
    orders_total = (
        customer_orders_count(customer=customer)
        if len(orders) >= CUSTOMER_TICKETS_LIMIT
        else len(orders)
    )
    context = {
        "shop": shop,
        "customer": customer,
        "tickets": tickets,
        "tickets_total": tickets_total,
        "orders": orders,
        "orders_total": orders_total,
        "sections": list(hooks.collect(hooks.CUSTOMER_PAGE_SECTIONS, customer=customer).values()),
        "risk_flags": customer_risk_flags(customer=customer),
    }
    return render(request, "tickets/customer_detail.html", context)


def _after_post(request, number: str, **extra):
    """htmx: the refreshed ticket partial; otherwise redirect to the ticket page (POST/redirect/GET),
    which shows a refused reply's text again."""
    if request.htmx:
        ticket = ticket_get(user=request.user, number=number)
        return render(request, "tickets/_ticket.html", _ticket_context(ticket, **extra))
    if extra.get("reply_body"):
        request.session[_DRAFT_KEY] = {
            "number": number,
            "body": extra["reply_body"],
            "internal": bool(extra.get("reply_internal")),
        }
    return redirect("workspace:ticket", number=number)


def _error_message(exc: ApplicationError) -> str:
    """The service's own sentence (already in the page's language); for invalid fields, what is
    wrong with the field."""
    for value in (exc.fields or {}).values():
        if isinstance(value, str):
            return value
    return exc.message


def _form_error(form) -> str:
    return next(
        (str(error) for errors in form.errors.values() for error in errors), _("Check the form.")
    )


@login_required
@require_POST
def ticket_presence(request, number: str):
    """The ticket page's heartbeat: who else has it open and who is typing (tickets.presence)."""
    ticket = ticket_get(user=request.user, number=number)
    if request.POST.get("leave"):
        presence_leave(ticket_number=ticket.number, user=request.user)
        return HttpResponse(status=204)
    others = presence_beat(
        ticket_number=ticket.number, user=request.user, typing=request.POST.get("typing") == "1"
    )
    return render(request, "tickets/_presence.html", {"others": others})


@login_required
@require_POST
def ticket_reply(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _after_post(
            request,
            number,
            reply_body=request.POST.get("body", ""),
            reply_internal=request.POST.get("visibility") == "internal",
        )
    try:
        services.message_add(
            ticket=ticket,
            body=form.cleaned_data["body"],
            actor=services.Actor.staff(request.user),
            internal=form.internal,
            seen_event_id=form.cleaned_data.get("seen_event_id"),
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(
            request, number, reply_body=form.cleaned_data["body"], reply_internal=form.internal
        )
    messages.success(request, _("Internal note added.") if form.internal else _("Reply sent."))
    macro = _macro_for(ticket, form.cleaned_data.get("macro"))
    if macro is not None and macro.actions:
        result = macro_apply(
            ticket=ticket, template=macro, actor=services.Actor.staff(request.user)
        )
        if result.done:
            messages.success(
                request,
                _("Macro “%(title)s” also did: %(actions)s.")
                % {"title": macro.title_in_reader_language, "actions": "; ".join(result.done)},
            )
        for failure in result.failed:
            messages.warning(request, _("Not done: %(failure)s") % {"failure": failure})
    return _after_post(request, number)


def _macro_for(ticket: Ticket, macro_id: int | None) -> ReplyTemplate | None:
    """The macro the reply came from, if it is one the ticket's shop may use."""
    if not macro_id:
        return None
    return reply_template_of_shop(ticket.shop_id, macro_id)


@login_required
@require_POST
def ticket_transition(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Choose an action.") if "action" in form.errors else _form_error(form)
        )
        return _after_post(request, number)
    action = form.cleaned_data["action"]
    try:
        updated = services.ticket_transition(
            ticket=ticket,
            action=action,
            actor=services.Actor.staff(request.user),
            note=form.cleaned_data["note"],
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(request, number)
    messages.success(
        request, _("Status changed to %(status)s.") % {"status": Status(updated.status).label}
    )
    return _after_post(request, number)


@login_required
@require_POST
def ticket_assign(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    choice = request.POST.get("assignee", "")
    if choice == "me":
        assignee = request.user
    elif choice == "":
        assignee = None
    else:
        assignee = (
            User.objects.filter(pk=choice, is_active=True).first() if choice.isdigit() else None
        )
        if assignee is None:
            messages.error(request, _("That person does not work for this ticket's shop."))
            return _after_post(request, number)
    try:
        services.ticket_assign(
            ticket=ticket, assignee=assignee, actor=services.Actor.staff(request.user)
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(request, number)
    if assignee is None:
        messages.success(request, _("The ticket is now unassigned."))
    else:
        messages.success(request, _("Assigned to %(name)s.") % {"name": assignee.get_username()})
    return _after_post(request, number)


@login_required
@require_POST
def ticket_attachment_add(request, number: str):
    ticket = ticket_get(user=request.user, number=number)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(
            request,
            _("Choose a file to upload.") if "file" not in request.FILES else _form_error(form),
        )
        return _after_post(request, number)
    try:
        services.attachment_add(
            ticket=ticket,
            uploaded_file=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
            actor=services.Actor.staff(request.user),
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(request, number)
    messages.success(request, _("Evidence uploaded."))
    return _after_post(request, number)


@login_required
@require_POST
def ticket_logistics_return(request, number: str):
    """Record that the parcel came back (returned / refused) and why: what rule R6 reads."""
    ticket = ticket_get(user=request.user, number=number)
    form = LogisticsReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _after_post(request, number)
    try:
        services.logistics_event_add(
            ticket=ticket,
            event=form.cleaned_data["event"],
            at=form.cleaned_data["at"] or timezone.now(),
            reason=form.cleaned_data["reason"],
            actor=services.Actor.staff(request.user),
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(request, number)
    messages.success(request, _("The return is recorded."))
    return _after_post(request, number)


@login_required
@require_POST
def ticket_follow_up(request, number: str):
    """A closed ticket's follow-up: a new ticket linked to it; the agent is taken there."""
    ticket = ticket_get(user=request.user, number=number)
    try:
        follow_up = services.ticket_follow_up_create(
            ticket=ticket, actor=services.Actor.staff(request.user)
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(request, number)
    messages.success(
        request, _("Follow-up ticket %(number)s created.") % {"number": follow_up.number}
    )
    url = resolve_url("workspace:ticket", number=follow_up.number)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def ticket_merge(request, number: str):
    """Merge a duplicate into another ticket of the same customer: from the merge form (this ticket
    into the one named) or from a suggested duplicate (that one into this ticket). The agent is
    taken to the ticket that stays; a refusal is shown on this page, with what was typed."""
    ticket = ticket_get(user=request.user, number=number)
    form = MergeForm(request.POST)
    typed = {"merge_into": request.POST.get("into", ""), "merge_note": request.POST.get("note", "")}
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _after_post(request, number, **typed)
    source_number = form.cleaned_data["source"] or ticket.number
    try:
        source = (
            ticket
            if source_number == ticket.number
            else ticket_get(user=request.user, number=source_number)
        )
        target = ticket_get(user=request.user, number=form.cleaned_data["into"])
        if target.shop_id != source.shop_id:
            raise Http404("No such ticket.")
    except Http404:
        messages.error(
            request,
            _("There is no ticket %(number)s in this shop.")
            % {"number": form.cleaned_data["into"]},
        )
        return _after_post(request, number, **typed)
    try:
        services.ticket_merge(
            source=source,
            target=target,
            note=form.cleaned_data["note"],
            actor=services.Actor.staff(request.user),
        )
    except ApplicationError as exc:
        messages.error(request, _error_message(exc))
        return _after_post(request, number, **typed)
    messages.success(
        request,
        _("%(source)s was merged into %(target)s.")
        % {"source": source.number, "target": target.number},
    )
    url = resolve_url("workspace:ticket", number=target.number)
    if request.htmx:
        return (
            HttpResponseClientRedirect(url)
            if target.pk != ticket.pk
            else _after_post(request, number)
        )
    return redirect(url)


@login_required
@require_GET
def attachment_file(request, pk: int):
    """Stream a piece of evidence, only to staff of the ticket's shop (404 for anyone else)."""
    attachment = (
        Attachment.objects.filter(pk=pk, ticket__shop_id__in=shop_ids_for_user(user=request.user))
        .only("file", "content_type", "original_name")
        .first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    # Inline: the content type was sniffed from the bytes at upload (images, PDF, MP4 only).
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        filename=services.download_name(attachment.original_name, attachment.content_type),
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
