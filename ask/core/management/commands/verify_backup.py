from pathlib import Path

from ask.core.backup_signing import SignatureError
from ask.core.backups import BackupError, backup_made, backup_verify, newest_backup
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "   # the newest backup",
        "var/backups/ask-20261201-023000.dump",
    )
    operator_errors = (BackupError, SignatureError)
    help = (
        "Check a backup (the newest, or FILE): its SHA-256, then a restore into a scratch database "
        "whose rows per table must equal the dump's own. Weekly, so a broken backup is noticed."
    )
    catch_up = "once"  # weekly: the next is a week away
    expected_seconds = 1800
    timeout = 3 * 3600  # a restore of the whole dump into a scratch database

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", help="The backup to check (default: the newest in BACKUP_DIR).")

    def run(self, job) -> str:
        path = Path(job.options["file"]) if job.options["file"] else newest_backup()
        counts = backup_verify(path=path)
        job.count("tables", len(counts))
        job.count("rows", sum(counts.values()))
        return (f"{path.name} ({backup_made(path)}) is good: {len(counts)} tables, {sum(counts.values()):,} rows "
                "restored as dumped")
