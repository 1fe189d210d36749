from pathlib import Path

from django.core.management.base import CommandError

from ask.core.backup_signing import SignatureError
from ask.core.backups import BackupError, backup_made, backup_restore
from ask.core.caching import caches_clear
from ask.core.databases import database_label
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "var/backups/ask-20261201-023000.dump --database ask_check --yes   # into a scratch database",
        "var/backups/ask-20261201-023000.dump --yes   # over the site's database (stop cron first)",
    )
    operator_errors = (BackupError, SignatureError)
    shares_lock_with = ("backup_db",)  # never beside each other: see backup_db
    help = (
        "Restore a backup made by backup_db over the site's database (or --database NAME on the same "
        "server). Verifies the SHA-256 and signature first and refuses a damaged file; refuses to run "
        "without --yes, naming the database and the backup's age. Everything in the target database is "
        "replaced, in one transaction; restoring the site's own database then clears its caches, so no "
        "page shows content the backup does not have. Stop cron on every host first (jobs would write "
        "into the database while it is replaced), and start it again after."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("file", help="The backup file (.dump or .sqlite3) with its .sha256 beside it.")
        parser.add_argument("--yes", action="store_true", help="Yes, replace the database's contents.")
        parser.add_argument("--database", help="Restore into this database instead (PostgreSQL, same server).")

    def check_options(self, options: dict) -> None:
        if not options["yes"]:
            path = Path(options["file"])
            raise CommandError(
                f"Restoring {path.name} ({backup_made(path)}) replaces everything in the "
                f"{database_label(options['database'])}. Stop cron on every host first, then run again with "
                "--yes if that is what you want. Nothing done.")

    def run(self, job) -> str:
        path, into = Path(job.options["file"]), job.options["database"]
        where = database_label(into)
        backup_restore(path=path, database=into)
        if into:
            return f"restored {path.name} ({backup_made(path)}) into the {where}"
        problems = caches_clear()
        for problem in problems:
            job.stderr.write(f"restore_db: {problem}: pages may show content of before the restore for up "
                             "to 10 min; clear it by hand (restart memcached)")
        cleared = "the caches were NOT all cleared" if problems else "the site's caches cleared"
        return (f"restored {path.name} ({backup_made(path)}) into the {where}; {cleared} (start cron again "
                "on every host if you stopped it)")
