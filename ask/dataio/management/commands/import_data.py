from pathlib import Path

from django.core.management.base import CommandError

from ask.core.private_files import UnsafePath
from ask.dataio.importing import FileProblem, data_import
from ask.dataio.specs import SPECS
from ask.dataio.writer import ImportReport
from ask.jobs.command import JobCommand

SHOWN_REJECTS = 20  # rejected rows named on stderr; all of them are in the rejects file


class Command(JobCommand):
    examples = (
        "tags tags.csv --dry-run   # what would be new, updated, unchanged",
        "questions questions.jsonl.gz --atomic   # all rows or none",
    )
    changes_data = True
    operator_errors = (FileProblem, UnsafePath)

    @property
    def help(self) -> str:
        keys = "; ".join(f"{name} by {'+'.join(spec.key)}" for name, spec in SPECS.items())
        return ("Import a file written by export_data (CSV or JSON Lines, gzip or not). Every row is validated; "
                "bad rows are reported with file, line, field and reason and written to a rejects file; good "
                f"rows are upserted by their natural key ({keys}), so importing a file twice changes nothing. "
                "Batches commit one by one, or all or nothing with --atomic. Exit status 1 when any row was "
                "rejected.")

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("model", choices=list(SPECS))
        parser.add_argument("file")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="Default: from the file name.")
        parser.add_argument("--atomic", action="store_true", help="All or nothing: any rejected row writes nothing.")
        parser.add_argument("--change-active", action="store_true",
                            help="users: let rows activate or deactivate existing accounts (without it such rows are "
                                 "rejected, so a file cannot lock out an admin). Staff and superuser flags are "
                                 "never imported.")
        parser.add_argument("--rejects", help="Where to write rejected rows (default: FILE.rejects.csv/.jsonl).")

    def run(self, job) -> str:
        options, report = job.options, ImportReport()
        meter = job.meter(total=None, desc=options["model"], unit="rows")
        try:
            outcome = data_import(path=Path(options["file"]), model=options["model"], fmt=options["format"],
                                  atomic=options["atomic"], dry_run=job.dry_run, on_batch=meter.update,
                                  rejects=Path(options["rejects"]) if options["rejects"] else None,
                                  change_active=options["change_active"], report=report)
        finally:  # also when stopped: the run record keeps what the committed batches did
            meter.close()
            self._count(job, report)
        for line in outcome.rejected_lines(SHOWN_REJECTS):
            job.stderr.write(line)
        if failure := outcome.failure():
            raise CommandError(failure)
        return outcome.summary()

    @staticmethod
    def _count(job, report: ImportReport) -> None:
        job.count("read", report.read)
        prefix = "would be " if job.dry_run else ""
        for counter in ("new", "updated", "unchanged"):
            job.count(prefix + counter, getattr(report, counter))
        job.count("rejected", len(report.rejected))
