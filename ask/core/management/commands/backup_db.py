
from django.conf import settings

from ask.core.backup_signing import SignatureError
from ask.core.backups import BACKUP_LOCK_GROUP, BackupError, backup_create, backup_reported
from ask.jobs.command import JobCommand, positive_int


class Command(JobCommand):
    examples = (
        "-v2   # by hand, before a risky change: names the file written",
        "--dry-run   # which old backups rotation would delete",
    )
    operator_errors = (BackupError, SignatureError)
    shares_lock_with = BACKUP_LOCK_GROUP
    help = (
        "Back the database up into BACKUP_DIR: pg_dump in custom format (SQLite: its online backup "
        "API) under a temporary name, renamed when complete, checked with pg_restore --list, with a "
        ".sha256 file beside it; then rotation keeps the newest backup of each of the last "
        "--keep-daily days and --keep-weekly ISO weeks. Fails loudly when pg_dump is older than the server."
    )
    catch_up = "once"  # a night without a backup is the one you need
    expected_seconds = 3600
    timeout = 3 * 3600  # stopped after 3 h under cron (a dump of a large site takes over an hour)
    changes_data = True

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("--keep-daily", type=positive_int, default=settings.BACKUP_KEEP_DAILY,
                            help=f"Days to keep a backup of (default BACKUP_KEEP_DAILY = "
                                 f"{settings.BACKUP_KEEP_DAILY}).")
        parser.add_argument("--keep-weekly", type=positive_int, default=settings.BACKUP_KEEP_WEEKLY,
                            help=f"Weeks to keep a backup of (default BACKUP_KEEP_WEEKLY = "
                                 f"{settings.BACKUP_KEEP_WEEKLY}).")

    def run(self, job) -> str:
        result = backup_create(keep_daily=job.options["keep_daily"], keep_weekly=job.options["keep_weekly"],
                               dry_run=job.dry_run)
        return backup_reported(job, result, "backup")
