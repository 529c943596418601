from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run`: the top layer, free to use every app of the product."""

    name = "demo"
    verbose_name = "Demo data"
