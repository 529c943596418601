from django.apps import AppConfig


class RiskConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "risk"
    verbose_name = "Risk"

    def ready(self):
        from risk import subscribers  # noqa: F401  (subscribes to the tickets' domain events)
