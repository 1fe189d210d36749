from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The site's machinery, no domain models (one row of backup status): outbox, backups, health,
    bulk writers, the cache backend, per-view caching, storage, pagination, the base templates and
    static files."""

    name = "ask.core"
    label = "core"
    verbose_name = "Site machinery"

    def ready(self) -> None:
        from ask.core import checks, health, metrics, request_slots  # noqa: F401  (registers the system checks)
        from ask.core.shells import RequestSlot, register_slot
        from ask.core.archive_doctor import NAME, check_archiving
        from ask.core.backup_status import backups_health
        from ask.jobs.doctor import register_check
        from ask.jobs.listing import register_note
        from ask.core.metrics_jobs import jobs_gauges, outbox_gauges

        health.register_defaults()
        health.register("backups", backups_health)
        register_check(NAME, check_archiving)
        register_note("backups", backups_health)
        metrics.register("jobs", jobs_gauges)
        metrics.register("outbox", outbox_gauges)
        register_slot("display_name", RequestSlot(request_slots.display_name))
        register_slot("profile_url", RequestSlot(request_slots.profile_url))
        register_slot("messages", RequestSlot(request_slots.messages))
