from pathlib import Path

from django.core.management.base import CommandError

from ask.cache_keys import BULK_VERSION, LISTS_VERSION
from ask.caching import bump
from ask.dataio.importing import FileProblem, ImportReport, import_file, write_rejects
from ask.dataio.specs import SPECS, format_of
from ask.jobs.command import JobCommand
from ask.ratings import ratings_add, ratings_recount

KEYS = "; ".join(f"{name} by {'+'.join(spec.key)}" for name, spec in SPECS.items())


class Command(JobCommand):
    help = (
        "Import a file written by export_data (CSV or JSON Lines, gzip or not). Every row is validated; "
        "bad rows are reported with file, line, field and reason and written to a rejects file; good "
        f"rows are upserted by their natural key ({KEYS}), so importing a file twice changes nothing. "
        "Batches commit one by one, or all or nothing with --atomic. Exit status 1 when any row was rejected."
    )
    changes_data = True

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("model", choices=list(SPECS))
        parser.add_argument("file")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="Default: from the file name.")
        parser.add_argument("--atomic", action="store_true", help="All or nothing: any rejected row writes nothing.")
        parser.add_argument("--rejects", help="Where to write rejected rows (default: FILE.rejects.csv/.jsonl).")

    def run(self, job) -> str:
        options = job.options
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        fmt = options["format"] or format_of(path)
        report = ImportReport()
        meter = job.meter(total=None, desc=options["model"], unit="rows")
        problem = None
        try:
            import_file(path=path, model=options["model"], fmt=fmt, atomic=options["atomic"], dry_run=job.dry_run,
                        report=report, on_batch=meter.update)
        except FileProblem as error:
            problem = str(error)
        meter.close()
        if not job.dry_run:  # also after a file problem: the batches before it stay written
            ratings_add(report.added)
            ratings_recount(report.touched)
            if report.pages_changed:
                bump(LISTS_VERSION, BULK_VERSION)
        job.count("read", report.read)
        job.count("written" if not job.dry_run else "valid", report.written)
        job.count("rejected", len(report.rejected))
        for line, field_name, reason, _ in report.rejected[:20]:
            job.stderr.write(f"{path}: line {line}: {field_name or 'row'}: {reason}")
        if report.rejected:
            rejects = Path(options["rejects"] or f"{path}.rejects.{fmt}")
            write_rejects(report.rejected, rejects, SPECS[options["model"]], fmt)
        nothing = options["atomic"] and (report.rejected or problem)
        summary = (f"{report.read:,} rows read, {0 if nothing else report.written:,} "
                   f"{'valid' if job.dry_run else 'written'} in {report.batches} batch(es), {len(report.rejected):,} rejected")
        if problem:
            kept = "nothing written (--atomic)" if options["atomic"] or job.dry_run else f"{report.written:,} rows of earlier batches stay written"
            raise CommandError(f"{problem}; {kept}. {summary}")
        if report.rejected:
            raise CommandError(f"{summary}{'; nothing written (--atomic)' if nothing else ''}; rejected rows are in {rejects}")
        return summary
