"""Template helpers of the agent workspace: labels for stored codes, SLA countdowns, query strings."""

import datetime as dt
import functools
from urllib.parse import quote

from django import template
from django.template import defaultfilters
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from aftersales import hooks
from tickets.models import Attachment, LogisticsEvent, Message, TicketEvent
from tickets.states import Action, Channel, Priority, Status

register = template.Library()

WARN_BEFORE = dt.timedelta(hours=1)
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
    return format_html(
        '<span class="sla {}" data-due="{}" data-overdue-label="{}" title="{}">{}</span>',
        css,
        due_at.isoformat(),
        overdue_label,
        timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
        text,
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
