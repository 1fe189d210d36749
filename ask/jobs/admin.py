from django.contrib import admin

from ask.jobs.models import JobRun
from ask.jobs.selectors import with_liveness


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    # No COUNT(*) of the whole table beside a filtered list: on millions of rows it alone may pass
    # the web's statement timeout (DB_WEB_STATEMENT_TIMEOUT_MS), and staff would only ever see "busy".
    show_full_result_count = False
    list_display = ["job", "shown_status", "host", "pid", "started_at", "duration", "summary"]
    list_filter = ["status", "job", "host", "dry_run"]
    search_fields = ["job", "summary", "error"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in JobRun._meta.fields]

    @admin.display(description="status")
    def shown_status(self, run: JobRun) -> str:
        # Only a "running" row costs a query (is its process alive?); finished rows cost nothing.
        return with_liveness([run])[run.pk]

    @admin.display(description="duration")
    def duration(self, run: JobRun) -> str:
        seconds = run.duration_seconds
        return "" if seconds is None else f"{seconds:.1f}s"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
