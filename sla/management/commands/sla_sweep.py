from django.core.management.base import BaseCommand

from sla.services import timers_sweep


class Command(BaseCommand):
    help = "Run one sweep of the SLA timers (what Celery beat does every few seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--queue", default=None, help="Celery queue for the fired tasks")

    def handle(self, *args, queue=None, **options):
        self.stdout.write(str(timers_sweep(queue=queue)))
