from django.conf import settings

from ask.jobs.command import JobCommand, positive_int
from ask.jobs.services import PRUNE_BATCH_SIZE, job_runs_prune


class Command(JobCommand):
    examples = (
        "--dry-run",
    )
    help = (
        "Delete job run records older than JOBS_RUN_RETENTION_DAYS (default 90), keeping each job's "
        "latest run and latest success however old."
    )
    catch_up = "once"  # daily housekeeping
    expected_seconds = 600
    changes_data = True
    default_batch_size = PRUNE_BATCH_SIZE

    def add_job_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=positive_int, default=None,
            help=f"Keep this many days instead (default {settings.JOBS_RUN_RETENTION_DAYS}).",
        )

    def run(self, job) -> str:
        days = job.options["days"] or settings.JOBS_RUN_RETENTION_DAYS
        count = job_runs_prune(older_than_days=days, dry_run=job.dry_run, batch_size=job.batch_size)
        job.count("would delete" if job.dry_run else "deleted", count)
        return f"{'would delete' if job.dry_run else 'deleted'} {count} run records older than {days} days"
