from ask.core.backup_signing import SignatureError
from ask.core.backups import BackupError
from ask.core.restore_points import point_name, restore_point_mark
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "before-migration-0042   # then, if it goes wrong: restore_db --to-point before-migration-0042 --yes",
    )
    operator_errors = (BackupError, SignatureError)
    help = (
        "Mark this moment in the write-ahead log under NAME (PostgreSQL's pg_create_restore_point), with a signed "
        "note in BACKUP_DIR/points, so restore_db --to-point NAME can bring the site back to exactly it. Before a "
        "risky change; needs continuous archiving (BACKUP_WAL_ARCHIVE) for the restore."
    )
    changes_data = True

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("name", type=point_name, help="The point's name: letters, digits, _ . - (60 at most).")

    def run(self, job) -> str:
        if job.dry_run:
            return f"would mark the restore point {job.options['name']}"
        point = restore_point_mark(job.options["name"])
        return f"marked the restore point {point['name']} at {point['lsn']} ({point['at']})"
