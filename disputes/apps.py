import importlib

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_dispute_types(sender, apps=None, **kwargs):
    # migrate passes its historical apps; flush passes none.
    apps = apps or global_apps
    # The data migration seeds the catalogue; `flush` (which ends every transactional
    # test) empties it and then sends post_migrate, so it is seeded again here. Idempotent.
    importlib.import_module("disputes.migrations.0002_seed_dispute_types").seed(apps, None)


class DisputesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "disputes"

    def ready(self):
        post_migrate.connect(seed_dispute_types, sender=self)
