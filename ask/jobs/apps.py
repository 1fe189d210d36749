from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The framework every cron-driven management command runs in: locks, run records, reporting."""

    name = "ask.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
