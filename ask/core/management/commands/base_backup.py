from django.conf import settings

from ask.core.backup_signing import SignatureError
from ask.core.backups import BACKUP_LOCK_GROUP, BackupError, backup_reported
from ask.core.base_backups import base_backup_create
from ask.core.media_archive import MediaArchiveError
from ask.core.private_files import UnsafePath
from ask.jobs.command import JobCommand, positive_int


class Command(JobCommand):
    examples = (
        "-v2   # by hand: names the folder written",
        "--dry-run   # which old base backups rotation would delete",
    )
    operator_errors = (BackupError, SignatureError, MediaArchiveError, UnsafePath)
    shares_lock_with = BACKUP_LOCK_GROUP
    help = (
        "With continuous archiving (BACKUP_WAL_ARCHIVE; otherwise nothing is done): copy the whole PostgreSQL "
        "cluster with pg_basebackup (tar, the log it needs streamed in) and the "
        "uploads into BACKUP_DIR/base/SITE-base-STAMP/, every file's SHA-256 in a signed BACKUP.json; then "
        "keep the --keep newest and the newest verified one. With archive_wal's log, a restore reaches any "
        "moment since the oldest kept copy (restore_db --to)."
    )
    catch_up = "once"  # a day without a base backup makes every restore replay a day more of log
    expected_seconds = 3600
    timeout = 3 * 3600
    changes_data = True

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("--keep", type=positive_int, default=settings.BACKUP_BASE_KEEP,
                            help=f"Base backups to keep (default BACKUP_BASE_KEEP = {settings.BACKUP_BASE_KEEP}).")

    def run(self, job) -> str:
        if not settings.BACKUP_WAL_ARCHIVE:
            return "continuous archiving is off (BACKUP_WAL_ARCHIVE): no base backup to make; nothing done"
        result = base_backup_create(keep=job.options["keep"], dry_run=job.dry_run)
        return backup_reported(job, result, "base backup")
