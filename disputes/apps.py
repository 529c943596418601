from django.apps import AppConfig


class DisputesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "disputes"

    def ready(self):
        from disputes import subscribers  # noqa: F401  (subscribes to the tickets' domain events)
        from disputes.models import ShopPolicy
        from shops.config import watch_model

        watch_model(ShopPolicy)
