import importlib

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_reply_templates(sender, apps=None, **kwargs):
    # migrate passes its historical apps; flush passes none.
    apps = apps or global_apps
    # As disputes.apps.seed_dispute_types: seeded again after a flush. Idempotent.
    importlib.import_module("tickets.migrations.0002_seed_reply_templates").seed(apps, None)


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self):
        post_migrate.connect(seed_reply_templates, sender=self)
