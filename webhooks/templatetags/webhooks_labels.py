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
