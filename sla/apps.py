from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA timers"

    def ready(self):
        from sla import subscribers  # noqa: F401  (subscribes to the tickets' domain events)
