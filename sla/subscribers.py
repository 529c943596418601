"""What sla does when a ticket changes (aftersales.hooks): keep its timers in step."""

from aftersales import hooks
from disputes.models import CompensationType
from sla.clock import timers_sync
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
