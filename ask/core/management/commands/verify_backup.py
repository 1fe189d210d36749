from pathlib import Path

from django.conf import settings
from django.db import connection

from ask.core.backup_signing import SignatureError
from ask.core.backup_status import verified_status_save
from ask.core.backups import (BACKUP_LOCK_GROUP, BackupError, backup_made, backup_mark_verified, backup_stamp,
                              newest_backup)
from ask.core.dump_verify import backup_verify
from ask.core.base_backups import base_backup_mark_verified
from ask.core.pitr_verify import verify_point_in_time
from ask.core.wal_archive import ArchiveError
from ask.core.private_files import UnsafePath
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "   # the newest backup (and, with continuous archiving, base backup plus log to just now)",
        "var/backups/ask-20261201-023000.dump",
    )
    operator_errors = (BackupError, SignatureError, ArchiveError, UnsafePath)
    help = (
        "Check a backup (the newest, or FILE): its SHA-256 and signature, then a restore into a scratch database "
        "whose rows per table must equal the dump's own. With continuous archiving (BACKUP_WAL_ARCHIVE) and no "
        "FILE, also the newest base backup plus the archived log restored into a scratch cluster to a moment of "
        "just now, whose rows per table must equal the live database's at that moment (every table is locked "
        "against writes for that instant, 10 s at most). Weekly, so a broken backup is noticed; rotation never "
        "deletes the newest backup that passed."
    )
    shares_lock_with = BACKUP_LOCK_GROUP
    catch_up = "once"  # weekly: the next is a week away
    expected_seconds = 1800
    timeout = 3 * 3600  # a restore of the whole dump into a scratch database

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", help="The backup to check (default: the newest in BACKUP_DIR).")

    def run(self, job) -> str:
        path = Path(job.options["file"]) if job.options["file"] else newest_backup()
        counts = backup_verify(path=path)
        backup_mark_verified(path)
        verified_status_save(name=path.name, made_at=backup_stamp(path))
        job.count("tables", len(counts))
        job.count("rows", sum(counts.values()))
        said = (f"{path.name} ({backup_made(path)}) is good: {len(counts)} tables, {sum(counts.values()):,} rows "
                "restored as dumped")
        if job.options["file"] or not settings.BACKUP_WAL_ARCHIVE or connection.vendor != "postgresql":
            return said
        base, rows = verify_point_in_time()
        base_backup_mark_verified(base)
        verified_status_save(name=base.path.name, made_at=base.stopped_at)
        job.count("rows at the moment", sum(rows.values()))
        return (f"{said}; {base.path.name} plus the archived log, restored to just now, holds the live database's "
                f"{sum(rows.values()):,} rows table by table")
