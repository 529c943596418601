from django.core.management.base import BaseCommand
from django.db import transaction

from sla.clock import timers_sync
from tickets.models import Ticket
from tickets.states import ACTIVE_STATUS_LIST


class Command(BaseCommand):
    help = "Create the SLA timers of tickets that existed before the sla app (run once after migrating)."

    def handle(self, *args, **options):
        count = 0
        ids = (
            Ticket.objects.filter(status__in=[*ACTIVE_STATUS_LIST, "resolved"])
            .values_list("id", flat=True)
            .iterator()
        )
        for ticket_id in ids:
            with transaction.atomic():
                ticket = (
                    Ticket.objects.locked()
                    .select_related("shop", "dispute_type", "order")
                    .get(pk=ticket_id)
                )
                timers_sync(ticket)
            count += 1
        self.stdout.write(f"{count} tickets synced")
