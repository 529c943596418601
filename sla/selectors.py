"""Reads of sla for the workspace: what the customer's page shows of the contact rules."""

import datetime as dt

from shops.sla import cached_sla
from sla.models import OutboundContact
from sla.services import contact_next_allowed, contacts_sent_today
from tickets.models import Customer

# The customer's page lists this many of the latest contacts.
CONTACT_LOG_LIMIT = 100


def customer_contact_log(*, customer: Customer, now: dt.datetime) -> dict:
    """The contacts sent to the customer (newest first) and where today's count stands against the
    shop's contact rules (DOMAIN.md §6): the window, the daily limit, when contact is next allowed."""
    shop = customer.shop
    sla, _calendar = cached_sla(shop)
    sent_today = contacts_sent_today(customer_id=customer.pk, shop=shop, now=now)
    opens, closes = sla["contact_window"]
    return {
        "contacts": list(
            OutboundContact.objects.filter(customer=customer)
            .select_related("ticket")
            .order_by("-created_at", "-id")[:CONTACT_LOG_LIMIT]
        ),
        "sent_today": sent_today,
        "daily_limit": sla["max_contacts_per_day"],
        "window_opens": opens,
        "window_closes": closes,
        "next_allowed": contact_next_allowed(shop=shop, now=now, sent_today=sent_today),
    }
