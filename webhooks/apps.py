from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self):
        from shops.config import watch_model
        from webhooks.models import WebhookEndpoint

        watch_model(WebhookEndpoint)
