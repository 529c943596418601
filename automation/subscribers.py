"""Rules subscribe to the core's domain events (aftersales.hooks). Ticket, message and
compensation events act inside the producer's transaction (so the API's answer already shows
what a rule did), each action in a savepoint; the SLA warning acts after the timers' chunk has
committed."""

from django.db import transaction

from aftersales import hooks
from automation.engine import rules_run
from automation.models import Event
from tickets.models import Message


@hooks.subscribe(hooks.TICKET_CREATED)
def on_ticket_created(*, ticket, now, **_):
    rules_run(event=Event.TICKET_CREATED, ticket=ticket, now=now)


@hooks.subscribe(hooks.TICKET_UPDATED)
def on_ticket_updated(*, ticket, **_):
    rules_run(event=Event.TICKET_UPDATED, ticket=ticket)


@hooks.subscribe(hooks.MESSAGE_ADDED)
def on_message_added(*, ticket, message, **_):
    if message.author_kind == Message.Author.CUSTOMER and not message.internal:
        rules_run(event=Event.MESSAGE_RECEIVED, ticket=ticket, message=message)


@hooks.subscribe(hooks.COMPENSATION_DECIDED)
def on_compensation_decided(*, compensation, **_):
    rules_run(
        event=Event.COMPENSATION_DECIDED, ticket=compensation.ticket, compensation=compensation
    )


@hooks.subscribe(hooks.SLA_WARNING, after_commit=True)
def on_sla_warning(*, ticket, now, **_):
    with transaction.atomic():
        rules_run(event=Event.SLA_WARNING, ticket=ticket, now=now)
