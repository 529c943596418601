from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    """The project's own layer (aftersales.*): no models; its ready() sets up the runtime."""

    name = "aftersales"

    def ready(self):
        from aftersales.runtime import (
            join_column_types_without_new_fields,
            manager_numbers_without_class_writes,
        )

        manager_numbers_without_class_writes()
        join_column_types_without_new_fields()
