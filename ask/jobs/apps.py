from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The framework every cron-driven management command runs in: locks, run records, reporting."""

    name = "ask.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from ask.core import health
        from ask.jobs.selectors import jobs_health

        health.register("jobs", jobs_health)
