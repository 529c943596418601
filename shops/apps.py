from django.apps import AppConfig


class ShopsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shops"

    def ready(self):
        from django.contrib.auth import get_user_model

        from shops.config import watch_model
        from shops.models import Membership

        watch_model(Membership)
        watch_model(get_user_model())
