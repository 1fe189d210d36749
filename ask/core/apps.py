from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The site's machinery, no domain models: outbox, backups, health, bulk writers, the cache
    backend, per-view caching, storage, pagination, the base templates and static files."""

    name = "ask.core"
    label = "core"
    verbose_name = "Site machinery"

    def ready(self) -> None:
        from ask.core import checks, health, metrics  # noqa: F401  (registers the system checks)
        from ask.core.metrics_jobs import jobs_gauges, outbox_gauges

        health.register_defaults()
        metrics.register("jobs", jobs_gauges)
        metrics.register("outbox", outbox_gauges)
