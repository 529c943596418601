"""A ticket's SLA clock: its due times stop while the ticket waits on the customer and resume
with the business time they had left (DOMAIN.md §6). Part of the ticket's own state, so the
core keeps it; the timers that act on the due times are the sla app's (sla.clock)."""

import datetime as dt

from shops.business_time import add_minutes, minutes_between
from shops.sla import cached_sla, target_for
from tickets.states import ACTIVE_STATUSES, Status


def sla_target(ticket) -> tuple[dict, dict, object]:
    """(the shop's SLA settings, the target for the ticket's priority and dispute type, its calendar)"""
    sla, calendar = cached_sla(ticket.shop)
    return (
        sla,
        target_for(sla, priority=ticket.priority, dispute_type=ticket.dispute_type.code),
        calendar,
    )


def clock_running(ticket) -> bool:
    return (
        ticket.status in ACTIVE_STATUSES
        and ticket.status != Status.PENDING_CUSTOMER
        and ticket.sla_paused_at is None
    )


def clock_on_status_change(ticket, *, previous: str, now: dt.datetime) -> list[str]:
    """Pause the clock on entering pending_customer, resume it on leaving: the due times move
    by the business time spent waiting. Returns the fields it changed."""
    entering = ticket.status == Status.PENDING_CUSTOMER and previous != Status.PENDING_CUSTOMER
    if entering and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
        return ["sla_paused_at"]
    if ticket.status != Status.PENDING_CUSTOMER and ticket.sla_paused_at is not None:
        paused_at = ticket.sla_paused_at
        ticket.sla_paused_at = None
        if (
            ticket.status in ACTIVE_STATUSES
        ):  # resolving or closing from pending_customer just stops the clock
            ticket.first_response_due_at, ticket.resolution_due_at = resumed_due_times(
                ticket, paused_at=paused_at, now=now
            )
        return ["sla_paused_at", "first_response_due_at", "resolution_due_at"]
    return []


def resumed_due_times(ticket, *, paused_at: dt.datetime, now: dt.datetime):
    """Each due time still ahead when the clock stopped keeps the business time it had left."""
    _, target, calendar = sla_target(ticket)
    business = target.get("business_time", True)

    def shift(due):
        if due is None or due <= paused_at:
            return due  # already missed before the pause: stays missed
        left = minutes_between(paused_at, due, calendar, business_time=business)
        return add_minutes(now, left, calendar, business_time=business)

    first = (
        ticket.first_response_due_at
        if ticket.first_responded_at
        else shift(ticket.first_response_due_at)
    )
    return first, shift(ticket.resolution_due_at)
