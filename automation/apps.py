from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = _("Automation rules")

    def ready(self):
        from automation import subscribers  # noqa: F401  (rules subscribe to the domain events)
        from automation.models import Rule
        from shops.config import watch_model

        watch_model(Rule)
