from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo site of a newcomer's machine: a demo superuser with a random password and sample data."""

    name = "ask.demo"
    label = "demo"
    verbose_name = "Demo data"
