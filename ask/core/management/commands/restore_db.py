from pathlib import Path

from django.core.management.base import CommandError

from ask.core.backup_signing import SignatureError
from ask.core.backups import BackupError, backup_restore
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "var/backups/ask-2026-12-01T0300.dump --database ask_check --yes   # into a scratch database",
        "var/backups/ask-2026-12-01T0300.dump --yes   # over the site's database (stop cron first)",
    )
    operator_errors = (BackupError, SignatureError)
    shares_lock_with = ("backup_db",)  # never beside each other: see backup_db
    help = (
        "Restore a backup made by backup_db over the site's database (or --database NAME on the same "
        "server). Verifies the SHA-256 first and refuses a damaged file; refuses to run without --yes. "
        "Everything in the target database is replaced, in one transaction."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("file", help="The backup file (.dump or .sqlite3) with its .sha256 beside it.")
        parser.add_argument("--yes", action="store_true", help="Yes, replace the database's contents.")
        parser.add_argument("--database", help="Restore into this database instead (PostgreSQL, same server).")

    def run(self, job) -> str:
        if not job.options["yes"]:
            raise CommandError("Restoring replaces the whole database; run again with --yes if that is what you want.")
        path = Path(job.options["file"])
        backup_restore(path=path, database=job.options["database"])
        return f"restored {path.name}"
