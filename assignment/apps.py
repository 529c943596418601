from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssignmentConfig(AppConfig):
    name = "assignment"
    verbose_name = _("Automatic assignment")

    def ready(self):
        from assignment import subscribers  # noqa: F401  (subscribes to the tickets' domain events)
        from assignment.models import AssignmentSettings
        from shops.config import watch_model

        watch_model(AssignmentSettings)
