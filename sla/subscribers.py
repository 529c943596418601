"""What sla does when a ticket changes (aftersales.hooks): keep its timers in step; and what it
adds to the customer's page (the contact log against the contact rules)."""

from django.utils import timezone

from aftersales import hooks
from disputes.models import CompensationType
from sla.clock import timers_sync
from sla.models import ContactPurpose, OutboundContact
from sla.selectors import customer_contact_log
from sla.services import reship_tracking_schedule


@hooks.subscribe(hooks.TICKET_CREATED)
def timers_for_new_ticket(*, ticket, now, **_):
    timers_sync(ticket, now=now, new=True)


@hooks.subscribe(hooks.TICKET_STATUS_CHANGED)
@hooks.subscribe(hooks.TICKET_CLOCK_CHANGED)
def timers_follow_ticket(*, ticket, now, **_):
    timers_sync(ticket, now=now)


@hooks.subscribe(hooks.COMPENSATION_EXECUTED)
def reship_tracking_to_customer(*, compensation, **_):
    """The re-shipment's tracking number goes to the customer (DOMAIN.md §6)."""
    if compensation.type == CompensationType.RESHIP and compensation.external_ref:
        reship_tracking_schedule(ticket=compensation.ticket, tracking_no=compensation.external_ref)


@hooks.provide(hooks.WORKSPACE_LABELS)
def contact_labels():
    return {"contact_purpose": ContactPurpose, "contact_channel": OutboundContact.Channel}


@hooks.provide(hooks.CUSTOMER_PAGE_SECTIONS)
def customer_contacts(*, customer):
    return {
        "contacts": {
            "template": "sla/_customer_contacts.html",
            **customer_contact_log(customer=customer, now=timezone.now()),
        }
    }
