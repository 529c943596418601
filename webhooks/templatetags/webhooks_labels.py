"""Webhook event types in words on the delivery log (the API and the shop backends keep the codes)."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

EVENT_LABELS = {
    "*": _("All events"),
    "ticket.created": _("Ticket created"),
    "ticket.status_changed": _("Ticket status changed"),
    "ticket.sla_breached": _("SLA breached"),
    "compensation.approved": _("Compensation approved"),
    "compensation.rejected": _("Compensation rejected"),
}


@register.filter
def event_label(code: str) -> str:
    return str(EVENT_LABELS.get(code, code))


@register.filter
def event_labels(codes) -> str:
    return " · ".join(event_label(code) for code in codes or [])


FAILURE_LABELS = {
    "blocked_address": _("Refused: the address is inside a private network"),
    "tls_error": _("TLS / certificate error"),
    "timeout": _("Timed out"),
    "dns_error": _("Host name not found"),
    "connection_refused": _("Connection refused"),
    "connection_error": _("Connection failed"),
    "request_error": _("Request failed"),
}


@register.filter
def failure_label(error: str) -> str:
    """A delivery's failure category in words; "HTTP 500" stays as it is."""
    return str(FAILURE_LABELS.get(error, error))
