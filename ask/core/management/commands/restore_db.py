from pathlib import Path

from django.core.management.base import CommandError

from ask.core.backup_signing import SignatureError
from ask.core.backups import BACKUP_LOCK_GROUP, BackupError, backup_made
from ask.core.databases import database_label
from ask.core.media_archive import MediaArchiveError
from ask.core.restore_points import point_name
from ask.core.restoring import dump_restore, moment, moment_restore
from ask.core.wal_archive import ArchiveError
from ask.core.private_files import UnsafePath
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "var/backups/ask-20261201-023000.dump --database ask_check --yes   # into a scratch database",
        '--to "2026-12-01 21:58:00" --database ask_check --yes   # that minute, from base backup and log',
    )
    operator_errors = (BackupError, SignatureError, ArchiveError, MediaArchiveError, UnsafePath)
    shares_lock_with = BACKUP_LOCK_GROUP
    help = (
        "Restore a backup made by backup_db (FILE), or the moment --to names, or the restore point --to-point "
        "names (mark_restore_point), from the newest base backup before it plus the archived log (continuous "
        "archiving): over the site's database, into --database NAME on the same server, or (--to, --to-point) "
        "into a new cluster at --cluster FOLDER. Checks checksums and signatures first and refuses a damaged "
        "file or a moment the archive does not cover, saying what it covers; refuses to run without --yes. "
        "Restoring the site's own database puts the backup's uploads back and clears the caches. Stop cron on "
        "every host first, and start it again after."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", help="The backup file (.dump or .sqlite3) with its .sha256 beside it.")
        parser.add_argument("--to", type=moment, metavar="TIME",
                            help='The moment to restore, "YYYY-MM-DD HH:MM[:SS]" in TIME_ZONE unless it names its '
                                 "offset (+01:00); from the base backups and the archived log.")
        parser.add_argument("--to-point", type=point_name, metavar="NAME",
                            help="The restore point mark_restore_point made under NAME, instead of a time.")
        parser.add_argument("--yes", action="store_true", help="Yes, replace the database's contents.")
        parser.add_argument("--database", help="Restore into this database instead (PostgreSQL, same server).")
        parser.add_argument("--cluster", type=Path, metavar="FOLDER",
                            help="With --to: a new cluster in this (new or empty) folder instead of a database.")
        parser.add_argument("--uploads", action="store_true",
                            help="With --database or --cluster: put the backup's uploads back too (over the site's "
                                 "own database they always are).")

    def check_options(self, options: dict) -> None:
        file, to, point = options["file"], options["to"], options["to_point"]
        if sum(map(bool, (file, to, point))) != 1:
            raise CommandError("Name a backup FILE, a moment --to TIME or a restore point --to-point NAME (one of "
                               "them). Nothing done.")
        if options["cluster"] and (file or options["database"]):
            raise CommandError("--cluster goes with --to or --to-point, without --database. Nothing done.")
        if not options["yes"] and not options["cluster"]:
            what = (f"the moment {to:%Y-%m-%d %H:%M:%S %Z}" if to else f"the restore point {point}" if point
                    else f"{Path(file).name} ({backup_made(Path(file))})")
            raise CommandError(
                f"Restoring {what} replaces everything in the {database_label(options['database'])}. Stop cron on "
                "every host first, then run again with --yes if that is what you want. Nothing done.")

    def run(self, job) -> str:
        options = job.options
        if options["to"] or options["to_point"]:
            return moment_restore(job, options["to"], point=options["to_point"], database=options["database"],
                                  cluster=options["cluster"], uploads=options["uploads"])
        return dump_restore(job, Path(options["file"]), database=options["database"], uploads=options["uploads"])

