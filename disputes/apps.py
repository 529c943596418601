from django.apps import AppConfig


class DisputesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "disputes"

    def ready(self):
        from disputes import subscribers  # noqa: F401  (subscribes to the tickets' domain events)
