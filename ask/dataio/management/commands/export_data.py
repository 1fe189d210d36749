from datetime import date, datetime, time

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ask.core.private_files import UnsafePath
from ask.dataio.exporting import ExportError, data_export
from ask.dataio.specs import SPECS
from ask.jobs.command import JobCommand


def since_moment(raw: str) -> datetime:
    """--since: a date (midnight in the site's time zone), a date and time in the site's time zone,
    or one with its own UTC offset."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        moment = parse_datetime(raw)
        if moment is None:
            raise CommandError(f"--since {raw!r} is not a date (YYYY-MM-DD) or a date and time "
                               "(YYYY-MM-DDTHH:MM, optionally with its UTC offset)") from None
        return moment if moment.tzinfo else timezone.make_aware(moment)
    return timezone.make_aware(datetime.combine(day, time.min))


class Command(JobCommand):
    exclusive = False  # read-only: exports of several models may run at once
    operator_errors = (UnsafePath, ExportError)
    examples = (
        "questions --since 2026-11-01 -o questions.csv.gz   # November's questions on, gzip CSV",
        "answers --format jsonl | head   # a look at the first rows",
    )

    @property
    def help(self) -> str:
        return (f"Export one of the site's models ({', '.join(SPECS)}) as CSV or JSON Lines, optionally gzip, "
                "to a file or stdout, streamed in primary-key order (memory stays flat). A file is written "
                "under FILE.partial and renamed when complete; an interrupted or failed export leaves nothing. "
                "--since exports rows created from then on. Password hashes and tokens are never exported.")

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("model", choices=list(SPECS))
        parser.add_argument("--format", choices=["csv", "jsonl"],
                            help="Default: from the output's name (.jsonl, .jsonl.gz), else csv.")
        parser.add_argument("--output", "-o", default="-", help="File to write (default: stdout); .gz compresses.")
        parser.add_argument("--gzip", action="store_true", help="Compress with gzip (also to stdout).")
        parser.add_argument("--since", help="Only rows created from then on: a date (midnight, site time zone "
                                            f"{timezone.get_default_timezone_name()}), a date and time, or "
                                            "ISO 8601 with a UTC offset.")
        parser.add_argument("--raw", action="store_true",
                            help="CSV: write text starting with = + - @ tab or CR as it is, for import_data. By "
                                 "default such a cell gets a leading ' so a spreadsheet shows it, never runs it.")

    def check_options(self, options: dict) -> None:
        if options["since"]:
            since_moment(options["since"])

    def run(self, job) -> str:
        options = job.options
        since = since_moment(options["since"]) if options["since"] else None
        if options["output"] == "-":
            job.stdout = job.stderr  # the data owns stdout; the summary line goes to stderr
        meter = job.meter(total=None, desc=options["model"], unit="rows")
        result = data_export(name=options["model"], output=options["output"], fmt=options["format"],
                             compress=options["gzip"], since=since, on_rows=meter.update,
                             raw=options["raw"])
        meter.close()
        job.count("rows", result.rows)
        return f"exported {result.rows:,} {options['model']} to {result.target}"
