import importlib

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_catalogues(sender, apps=None, **kwargs):
    """The data migrations seed the dispute types and reply templates; `flush` (which ends every
    transactional test) empties them and then sends post_migrate, so they are seeded again here.
    migrate passes its historical apps; flush passes none. Idempotent."""
    from tickets.catalogue import dispute_types_seed

    apps = apps or global_apps
    try:
        dispute_type = apps.get_model("tickets", "DisputeType")
    except LookupError:  # migrated back before tickets.0010: the model was still the disputes app's
        dispute_type = apps.get_model("disputes", "DisputeType")
    dispute_types_seed(dispute_type)
    importlib.import_module("tickets.migrations.0002_seed_reply_templates").seed(apps, None)


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self):
        from shops.config import watch_model
        from tickets.models import DisputeType, ReplyTemplate

        post_migrate.connect(seed_catalogues, sender=self)
        watch_model(DisputeType)
        watch_model(ReplyTemplate)
