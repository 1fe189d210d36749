from django.conf import settings

from ask.core.outbox import mail_prune
from ask.jobs.command import JobCommand, positive_int

# 1,000 mails with their logs ≈ 1–2 MB of rows per delete statement.
PRUNE_BATCH_SIZE = 1000


class Command(JobCommand):
    examples = (
        "--days 90 --dry-run   # how much mail older than 90 days there is",
    )
    help = (
        "Delete sent and given-up mail older than MAIL_RETENTION_DAYS (default 30) from the outbox. "
        "Mail still waiting to be sent is never deleted."
    )
    catch_up = "once"  # daily housekeeping
    expected_seconds = 600
    changes_data = True
    default_batch_size = PRUNE_BATCH_SIZE

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("--days", type=positive_int, default=None,
                            help=f"Keep this many days instead (default {settings.MAIL_RETENTION_DAYS}).")

    def run(self, job) -> str:
        days = job.options["days"] or settings.MAIL_RETENTION_DAYS
        count = mail_prune(older_than_days=days, dry_run=job.dry_run, batch_size=job.batch_size)
        job.count("would delete" if job.dry_run else "deleted", count)
        return f"{'would delete' if job.dry_run else 'deleted'} {count} mails older than {days} days"
