import gzip
import io
import sys
from pathlib import Path

from django.core.management.base import CommandError

from ask.dataio.exporting import export_rows
from ask.dataio.specs import SPECS, BadValue, format_of, read_datetime
from ask.jobs.command import JobCommand


class Command(JobCommand):
    exclusive = False  # read-only: exports of several models may run at once
    help = (
        f"Export one of the site's models ({', '.join(SPECS)}) as CSV or JSON Lines, optionally gzip, to a "
        "file or stdout, streamed in primary-key order (memory stays flat). --since exports rows created "
        "from then on. Password hashes and tokens are never exported."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("model", choices=list(SPECS))
        parser.add_argument("--format", choices=["csv", "jsonl"],
                            help="Default: from the output's name (.jsonl, .jsonl.gz), else csv.")
        parser.add_argument("--output", "-o", default="-", help="File to write (default: stdout); .gz compresses.")
        parser.add_argument("--gzip", action="store_true", help="Compress with gzip (also to stdout).")
        parser.add_argument("--since", help="Only rows created from this moment on (ISO 8601 with offset).")

    def run(self, job) -> str:
        options = job.options
        try:
            since = read_datetime(options["since"]) if options["since"] else None
        except BadValue as bad:
            raise CommandError(f"--since {bad}") from None
        compress = options["gzip"] or options["output"].endswith(".gz")
        if options["output"] == "-":
            job.stdout = job.stderr  # the data owns stdout; the summary line goes to stderr
            binary = sys.stdout.buffer
            target = Path("stdout")
        else:
            target = Path(options["output"])
            partial = target.with_name(target.name + ".partial")
            binary = partial.open("wb")
        raw = gzip.GzipFile(fileobj=binary, mode="wb", mtime=0) if compress else binary
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        meter = job.meter(total=None, desc=options["model"], unit="rows")
        fmt = options["format"] or format_of(Path(options["output"]))
        count = export_rows(options["model"], text, fmt, since, on_row=meter.update)
        meter.close()
        text.flush()
        if compress:
            raw.close()
        if options["output"] != "-":
            binary.close()
            partial.replace(target)
        else:
            text.detach()
        job.count("rows", count)
        return f"exported {count:,} {options['model']} to {target}"
