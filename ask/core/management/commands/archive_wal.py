from django.conf import settings

from ask.core.archiving import archive_reach, archive_run
from ask.core.backup_signing import SignatureError
from ask.core.backups import BackupError
from ask.core.wal_archive import ArchiveError, slot_name, wal_dir
from ask.core.private_files import UnsafePath
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "--loop --max-seconds 55   # as cron runs it each minute",
        "--dry-run   # what the archive covers and which old segments would go",
    )
    operator_errors = (ArchiveError, BackupError, SignatureError, UnsafePath)
    help = (
        "Continuous archiving (BACKUP_WAL_ARCHIVE): stream PostgreSQL's write-ahead log into BACKUP_DIR/wal "
        "with pg_receivewal on the replication slot SITE_wal_archive, and sign what it wrote every --interval "
        "into the archive's manifest, so a restore can reach any moment up to seconds ago (restore_db --to). "
        "First deletes the log no kept base backup needs. One host at a time (locked; the slot refuses a second "
        "stream too); the slot keeps the log on the server while no run streams."
    )
    catch_up = "skip"  # every minute: the slot kept what the missed minute wrote
    loops = True
    default_max_seconds = 55.0
    default_interval = 5.0
    changes_data = True

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("--new-archive", action="store_true",
                            help="Begin a new archive: the folder's old one is moved aside (never deleted), and the "
                                 "database's record of which archive is kept follows this host's. After BACKUP_DIR "
                                 "was lost, or the database server was replaced; take a base backup right after.")

    def run(self, job) -> str:
        if not settings.BACKUP_WAL_ARCHIVE:
            return "continuous archiving is off (BACKUP_WAL_ARCHIVE); nothing done"
        done = archive_run(job)
        job.count("segments archived", done.passes.segments_added)
        job.count("segments pruned", len(done.pruned))
        if job.dry_run:
            return f"{archive_reach()}; would prune {len(done.pruned)} segment(s) from {wal_dir()}"
        lag = done.passes.lag_seconds
        caught = f"{lag:.1f} s behind the server" if lag is not None else "not caught up yet"
        return (f"archived {done.passes.segments_added} segment(s) into {wal_dir()} on slot {slot_name()}, "
                f"{caught}; pruned {len(done.pruned)}")
