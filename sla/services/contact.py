"""Contacting customers (DOMAIN.md §6): the contact window and the daily limit."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction

from notifications.channels import channel_send
from shops.models import Shop
from shops.sla import cached_sla
from sla.models import OutboundContact
from tickets.models import Customer, Ticket, TicketEvent, mask_phone
from tickets.services import Actor, event_record

# --- contacting customers (DOMAIN.md §6) --------------------------------------------------


def contacts_sent_today(*, customer_id: int, shop: Shop, now: dt.datetime) -> int:
    """How many times the customer was contacted today (the shop's day, up to `now`): what the
    daily limit counts (DOMAIN.md §6), and what the customer's page shows against it."""
    tz = ZoneInfo(shop.timezone)
    midnight = dt.datetime.combine(now.astimezone(tz).date(), dt.time.min, tzinfo=tz)
    return OutboundContact.objects.filter(
        customer_id=customer_id, created_at__gte=midnight, created_at__lte=now
    ).count()


def contact_next_allowed(*, shop: Shop, now: dt.datetime, sent_today: int) -> dt.datetime | None:
    """None when contact is allowed now; else the start of the next contact window."""
    sla, _cal = cached_sla(shop)
    tz = ZoneInfo(shop.timezone)
    local = now.astimezone(tz)
    opens, closes = (dt.time.fromisoformat(t) for t in sla["contact_window"])
    today_opens = dt.datetime.combine(local.date(), opens, tzinfo=tz)
    tomorrow_opens = dt.datetime.combine(local.date() + dt.timedelta(days=1), opens, tzinfo=tz)
    if local < today_opens:
        return today_opens
    if local.time() >= closes or sent_today >= sla["max_contacts_per_day"]:
        return tomorrow_opens
    return None


def contact_customer(
    *, ticket: Ticket, purpose: str, body: str, now: dt.datetime, actor: Actor | None = None
) -> dt.datetime | None:
    """Text the customer now if the shop's contact rules allow it (logged on the timeline as
    `actor`'s, the system by default), else return when to try again: never dropped, only
    deferred."""
    actor = actor or Actor.system()
    customer = Customer.objects.select_for_update().get(
        pk=ticket.customer_id
    )  # one counter per customer
    sent_today = contacts_sent_today(customer_id=customer.pk, shop=ticket.shop, now=now)
    later = contact_next_allowed(shop=ticket.shop, now=now, sent_today=sent_today)
    if later is not None:
        return later.astimezone(dt.UTC)
    if not customer.phone:
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.CONTACT,
            actor=actor,
            data={"purpose": purpose, "channel": "sms", "skipped": "no phone number", "body": body},
        )
        return None
    OutboundContact.objects.create(
        shop=ticket.shop,
        customer=customer,
        ticket=ticket,
        channel=OutboundContact.Channel.SMS,
        purpose=purpose,
        to=customer.phone,
        body=body,
        created_at=now,
    )
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.CONTACT,
        actor=actor,
        data={"purpose": purpose, "channel": "sms", "to": mask_phone(customer.phone), "body": body},
    )
    phone = customer.phone
    # robust: the contact is recorded (and counted against the day's limit) whatever the SMS gateway answers.
    transaction.on_commit(lambda: channel_send(channel="sms", to=phone, body=body), robust=True)
    return None
