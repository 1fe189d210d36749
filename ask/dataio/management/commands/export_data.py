from django.core.management.base import CommandError

from ask.core.private_files import UnsafePath
from ask.dataio.exporting import data_export
from ask.dataio.specs import SPECS, BadValue, read_datetime
from ask.jobs.command import JobCommand


class Command(JobCommand):
    exclusive = False  # read-only: exports of several models may run at once
    operator_errors = (UnsafePath,)

    @property
    def help(self) -> str:
        return (f"Export one of the site's models ({', '.join(SPECS)}) as CSV or JSON Lines, optionally gzip, "
                "to a file or stdout, streamed in primary-key order (memory stays flat). --since exports rows "
                "created from then on. Password hashes and tokens are never exported.")

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("model", choices=list(SPECS))
        parser.add_argument("--format", choices=["csv", "jsonl"],
                            help="Default: from the output's name (.jsonl, .jsonl.gz), else csv.")
        parser.add_argument("--output", "-o", default="-", help="File to write (default: stdout); .gz compresses.")
        parser.add_argument("--gzip", action="store_true", help="Compress with gzip (also to stdout).")
        parser.add_argument("--since", help="Only rows created from this moment on (ISO 8601 with offset).")
        parser.add_argument("--raw", action="store_true",
                            help="CSV: write text starting with = + - @ tab or CR as it is, for import_data. By "
                                 "default such a cell gets a leading ' so a spreadsheet shows it, never runs it.")

    def run(self, job) -> str:
        options = job.options
        try:
            since = read_datetime(options["since"]) if options["since"] else None
        except BadValue as bad:
            raise CommandError(f"--since {bad}") from None
        if options["output"] == "-":
            job.stdout = job.stderr  # the data owns stdout; the summary line goes to stderr
        meter = job.meter(total=None, desc=options["model"], unit="rows")
        result = data_export(name=options["model"], output=options["output"], fmt=options["format"],
                             compress=options["gzip"], since=since, on_rows=meter.update,
                             raw=options["raw"])
        meter.close()
        job.count("rows", result.rows)
        return f"exported {result.rows:,} {options['model']} to {result.target}"
