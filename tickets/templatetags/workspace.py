"""Template helpers of the agent workspace: labels for stored codes, SLA countdowns, query strings."""

import datetime as dt
import functools
import html
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django import template
from django.template import defaultfilters
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from aftersales import hooks
from tickets.models import Attachment, LogisticsEvent, Message, TicketEvent
from tickets.states import Action, Channel, Priority, Status

register = template.Library()

WARN_BEFORE = dt.timedelta(hours=1)


def _escape(value) -> str:
    """django.utils.html.escape's answer without its lazy-string check (five times as long, and
    a page of the queue escapes ~750 values): safe strings as they are, the rest escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


# The core's codes; the features add theirs (aftersales.hooks.WORKSPACE_LABELS).
_LABELS = {
    "status": Status,
    "priority": Priority,
    "action": Action,
    "event": TicketEvent.Kind,
    "author": Message.Author,
    "attachment_kind": Attachment.Kind,
    "logistics": LogisticsEvent.Event,
    "return_reason": LogisticsEvent.ReturnReason,
    "channel": Channel,
}


@functools.cache
def _all_labels() -> dict:
    """The core's codes and the features' (asked once: they are fixed once the apps are ready)."""
    return {**_LABELS, **hooks.collect(hooks.WORKSPACE_LABELS)}


@register.filter
def label(value, choices: str):
    """The translated label of a stored code ({{ ticket.status|label:"status" }}); unknown codes as they are."""
    return _label(choices, value, get_language())


@functools.lru_cache(maxsize=4096)
def _label(choices: str, value, language: str | None):
    """Remembered per language: a page of tickets asks the same few codes hundreds of times."""
    enum = _all_labels()[choices]
    try:
        return str(enum(value).label)
    except (ValueError, TypeError):
        return value


@register.filter
def ticket_path(number) -> str:
    """The ticket page's path, as {% url 'workspace:ticket' number %} gives it, for pages that
    link many tickets (the queue's rows): the URL's prefix is reversed once, not once per row."""
    return _ticket_path_prefix(get_script_prefix()) + quote(str(number), safe="") + "/"


@functools.lru_cache(maxsize=16)
def _ticket_path_prefix(script_prefix: str) -> str:
    return reverse("workspace:ticket", args=["0"]).removesuffix("0/")


def format_duration(seconds: float) -> str:
    """1h 05m style, the same as static/js/workspace.js renders it."""
    minutes = int(abs(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


@register.simple_tag
def sla_countdown(due_at, now=None):
    """Time left to `due_at`: amber under an hour, red once past. JS refreshes it every 30 s."""
    if due_at is None:
        return mark_safe('<span class="sla sla-none">—</span>')
    now = now or timezone.now()
    left = due_at - now
    overdue_label = _("overdue")
    if left <= dt.timedelta(0):
        css, text = "sla-breached", f"{overdue_label} {format_duration(left.total_seconds())}"
    else:
        css = "sla-warn" if left < WARN_BEFORE else "sla-ok"
        text = format_duration(left.total_seconds())
    # format_html's answer, escaped by _escape (the queue shows one or two per row).
    return mark_safe(
        '<span class="sla {}" data-due="{}" data-overdue-label="{}" title="{}">{}</span>'.format(
            css,
            due_at.isoformat(),
            _escape(overdue_label),
            timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
            _escape(text),
        )
    )


# One row of the queue (tickets/_queue_rows.html). Written out rather than a template loop: the
# queue is the page every agent keeps open, and the engine spent ~0.25 ms resolving each row's
# forty variables and filters, 6 ms of a page of 25 (bench/README.md). Each cell repeats its
# column's name for the narrow layout (data-label).
_QUEUE_ROW = (
    '<tr class="prio-row-{priority}">'
    '<td class="select"><input type="checkbox" name="numbers" value="{number}" form="bulk-form"'
    ' data-bulk-row aria-label="{l_select} {number}"></td>'
    '<td data-label="{l_ticket}"><a class="ticket-link" href="{path}">{number}</a>{tags}</td>'
    '<td data-label="{l_priority}"><span class="badge prio-{priority}">{priority_label}</span></td>'
    '<td data-label="{l_status}"><span class="status status-{status}">{status_label}</span></td>'
    '<td data-label="{l_type}">{dispute_type}</td>'
    '<td data-label="{l_channel}">{channel_label}</td>'
    '<td data-label="{l_customer}">{customer} <span class="muted mono">{phone}</span></td>'
    '<td class="mono" data-label="{l_order}">{order_no}</td>'
    '<td data-label="{l_assignee}">{assignee}</td>'
    '<td class="nowrap" data-label="{l_sla}">{sla}</td>'
    '<td class="nowrap{deadline_class}" data-label="{l_deadline}">{deadline}</td>'
    "</tr>"
)
_QUEUE_TAG = ' <a class="tag tag-{}" href="{}" title="{}">{}</a>'


@functools.lru_cache(maxsize=8)
def _queue_row_words(language: str | None) -> dict:
    """The row's fixed words in the reader's language, escaped once (the column names: l_…)."""
    return {
        "l_ticket": _escape(_("Ticket")),
        "l_priority": _escape(_("Priority")),
        "l_status": _escape(_("Status")),
        "l_type": _escape(_("Dispute type")),
        "l_channel": _escape(_("Channel")),
        "l_customer": _escape(_("Customer")),
        "l_order": _escape(_("Order")),
        "l_assignee": _escape(_("Assignee")),
        "l_sla": _escape(_("SLA")),
        "l_deadline": _escape(_("Platform deadline")),
        "l_select": _escape(pgettext("a row to act on", "Select")),
        "unassigned": format_html('<span class="muted">{}</span>', _("Unassigned")),
        "paused": format_html('<span class="sla sla-none">{}</span>', _("paused")),
        "tag_title": _("Show the tickets with this tag"),
    }


@register.simple_tag(takes_context=True)
def queue_row(context, ticket, now):
    """The queue's row of `ticket`: its tags link to the queue filtered by them, its SLA counts
    down to `now`, its platform deadline is in the shop's time zone."""
    language = get_language()
    words = _queue_row_words(language)
    tags = "".join(
        format_html(
            _QUEUE_TAG,
            tag.colour,
            query(context, tag=tag.name, page=None),
            words["tag_title"],
            tag.name,
        )
        for tag in ticket.tag_list
    )
    if ticket.status == Status.PENDING_CUSTOMER:
        sla = words["paused"]
    else:
        sla = sla_countdown(ticket.next_due_at, now)
    deadline_at = ticket.platform_deadline_at
    if deadline_at:
        local = timezone.localtime(deadline_at, ZoneInfo(ticket.shop.timezone))  # (cached)
        deadline = local.strftime("%m-%d %H:%M")  # digits only
        if getattr(ticket, "earliest_due_at", None) == deadline_at:
            deadline += " " + sla_countdown(deadline_at, now)
    else:
        deadline = mark_safe('<span class="muted">—</span>')
    customer = ticket.customer
    assignee = ticket.assignee
    esc = _escape
    return mark_safe(
        _QUEUE_ROW.format(
            **words,
            priority=esc(ticket.priority),
            number=esc(ticket.number),
            path=esc(ticket_path(ticket.number)),
            tags=tags,
            priority_label=esc(_label("priority", ticket.priority, language)),
            status=esc(ticket.status),
            status_label=esc(_label("status", ticket.status, language)),
            dispute_type=esc(ticket.dispute_type.name),
            channel_label=esc(_label("channel", ticket.channel, language)),
            customer=esc(customer.name or customer.external_id),
            phone=esc(customer.masked_phone),
            order_no=esc(ticket.order.order_no),
            assignee=words["unassigned"] if assignee is None else esc(assignee.get_username()),
            sla=sla,
            deadline_class=" deadline-hardest" if deadline_at else "",
            deadline=deadline,
        )
    )


@register.simple_tag(takes_context=True)
def query(context, **changes):
    """The current query string with some parameters replaced; a None/empty value removes one."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def get(mapping, key):
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


# Notes the services write on automatic status changes, shown in the agent's language.
_SYSTEM_NOTES = {
    "first reply": gettext_lazy("first reply"),
    "customer replied": gettext_lazy("customer replied"),
}


@register.filter
def event_note(note: str) -> str:
    return _SYSTEM_NOTES.get(note, note)


@register.filter
def actor(label: str) -> str:
    """Who acted, for people: "shop:demo" is the shop's backend, "system" the product itself."""
    if label == "system":
        return _("System")
    if label.startswith("shop:"):
        return _("Shop backend (%(code)s)") % {"code": label[5:]}
    if label.startswith("rule:"):  # automation: "rule:<id>@<version> <name>"
        ref, _space, name = label[5:].partition(" ")
        version = ref.partition("@")[2]
        return _("Rule “%(name)s” v%(version)s") % {"name": name, "version": version}
    return label


@register.filter
def parse_iso(value):
    if not value or not isinstance(value, str):
        return value
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


@register.filter(expects_localtime=True)
def minute(value) -> str:
    """`|date:"Y-m-d H:i"` of a datetime (in the reader's time zone, as the date filter), without
    building a DateFormat each time: the timeline shows two per event, and the date filter took
    30–40 µs each (bench/README.md)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return defaultfilters.date(value, "Y-m-d H:i")


@register.filter(expects_localtime=True)
def iso(value) -> str:
    """`|date:'c'` of a datetime (ISO 8601, in the reader's time zone), as `minute` does."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return defaultfilters.date(value, "c")
