from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_triggers(sender, using="default", **kwargs):
    from analytics.rollup import triggers_install

    triggers_install(using=using)


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"
    verbose_name = "Analytics and early warning"

    def ready(self):
        # The rollup's marker triggers (analytics.rollup): after every migrate, idempotently.
        post_migrate.connect(_install_triggers, sender=self, dispatch_uid="analytics-triggers")
        from analytics import subscribers  # noqa: F401  (subscribes to the tickets' domain events)
