"""JobCommand: the base class of every background job (cron-driven management command).

A job sets a few class attributes and implements run(job); the base gives it locking, a JobRun
record, uniform options, progress bars on a terminal, one stderr line and a non-zero exit on failure.
"""
import argparse
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, ProgrammingError

from ask.jobs.deadline import said
from ask.jobs.runner import EXIT_TEMPFAIL, JobContext, JobFailed, execute, one_line, unreachable_reason
from ask.jobs.schedule import schedule_of

DJANGO_OPTIONS = {"settings", "pythonpath", "traceback", "no_color", "force_color", "skip_checks"}


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def positive_int_at_most(limit: int):
    """positive_int with an upper bound (an argparse type): a size past what the machine can hold
    is refused at once, not found out by running out of memory an hour later."""
    def read(raw: str) -> int:
        value = positive_int(raw)
        if value > limit:
            raise argparse.ArgumentTypeError(f"{value:,} is more than {limit:,}")
        return value

    return read


def positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be more than 0")
    return value


def profile_file(raw: str) -> str:
    """--profile FILE: refused before the run when its folder is missing or not writable."""
    path = Path(raw).expanduser().resolve()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{raw} is a folder; give a file name")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"the folder {path.parent} is not writable")
    return str(path)  # a string, so the run record's arguments keep it


class WithExamples:
    """A management command whose --help ends with `examples` (one or two command lines, each with
    what it does after two spaces and a #), so an admin sees how it is run before reading every option."""

    examples: tuple[str, ...] = ()

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        shown = "\n".join(f"  manage.py {subcommand} {example}".rstrip() for example in self.examples)
        parser.epilog = "\n\n".join(filter(None, [self.epilog_text(), shown and f"Examples:\n{shown}"]))
        return parser

    def epilog_text(self) -> str:
        """What --help says after the options, before the examples."""
        return ""


class AdminCommand(WithExamples, BaseCommand):
    """A command that is not a job (jobs, stats, restaurant_token): examples in its --help, and a
    database that is down or not migrated said in one line, as the jobs say it, not as a traceback."""

    def execute(self, *args, **options):
        name = self.__module__.rsplit(".", 1)[-1]
        try:
            return super().execute(*args, **options)
        except OperationalError as exc:
            raise CommandError(f"{name}: database unreachable: {unreachable_reason(exc)}",
                               returncode=EXIT_TEMPFAIL) from None
        except ProgrammingError as exc:  # a table or column missing: deployed, not yet migrated
            raise CommandError(f"{name}: database not ready: {one_line(exc)} (not migrated yet?)") from None


class JobCommand(WithExamples, BaseCommand):
    # Take the job's lock and skip when another run holds it. Jobs that coordinate through the
    # database (SELECT ... FOR UPDATE SKIP LOCKED) set this to False and may run on every host at once.
    exclusive = True
    # Adds --dry-run: report what would change, change nothing.
    changes_data = False
    # Adds --batch-size with this default (a job that works in batches names its cost beside it).
    default_batch_size: int | None = None
    # Adds --loop, --max-seconds and --interval (see JobContext.passes).
    loops = False
    default_max_seconds = 55.0
    default_interval = 2.0
    # What a scheduled slot that no host ran means (ask.jobs.slots): "once" (catch_up_jobs makes up
    # one run) or "skip" (recorded as missed; the next scheduled run does the work anyway).
    catch_up = "skip"
    # How long a run normally takes at most; one still going after this shows OVERDUE in `manage.py
    # jobs` and /healthz, before the cron wrapper's timeout kills it. Loop jobs: --max-seconds + 30.
    expected_seconds: float | None = None
    # The longest a run the schedule started may take (ask.jobs.deadline): then it is stopped,
    # recorded failed "timed out", exit 143. ASK_JOB_TIMEOUT overrides it; runs by hand have none.
    timeout: float = 3600
    # Other jobs this one must never run beside (backup_db and restore_db): they share one lock.
    # Declared on each side.
    shares_lock_with: tuple[str, ...] = ()
    # Exceptions of the job's services that are the operator's to fix (a bad file, a missing folder):
    # reported as CommandError, one line and no traceback, like a bad option.
    operator_errors: tuple[type[Exception], ...] = ()

    @property
    def job_name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]

    def epilog_text(self) -> str:
        entries = schedule_of(self.job_name)
        when = (
            "\n".join(f"  {e.schedule}  manage.py {' '.join(e.argv)}" for e in entries)
            if entries
            else "  not scheduled; run by hand"
        )
        overlap = (
            "Runs one at a time across all hosts; a run that finds another running is skipped: it says which\n"
            "host and pid hold it and exits 75 by hand (like flock -n), 0 under cron."
            if self.exclusive
            else "Not locked: runs may overlap, on one host or several (the database keeps their work apart)."
        )
        return (
            f"Cron (settings.CRONJOBS, crontab.txt; server time):\n{when}\n\n{overlap}\n"
            "Every run is recorded: `manage.py jobs` lists them. Exit status 0 when done, 1 when it failed\n"
            "(one line on stderr), 2 for a bad option (nothing recorded), 75 when skipped by hand or the\n"
            "database is unreachable, 130 when interrupted, 143 when terminated or, started by cron,\n"
            f"over its time limit of {said(self.timeout)} (ASK_JOB_TIMEOUT sets another)."
        )

    def add_arguments(self, parser) -> None:
        if self.changes_data:
            parser.add_argument("--dry-run", action="store_true", help="Report what would change; change nothing.")
        if self.default_batch_size:
            parser.add_argument(
                "--batch-size", type=positive_int, default=self.default_batch_size,
                help=f"Rows per batch (default {self.default_batch_size}).",
            )
        if self.loops:
            parser.add_argument("--loop", action="store_true", help="Keep working in passes until --max-seconds.")
            parser.add_argument(
                "--max-seconds", type=positive_float, default=self.default_max_seconds,
                help=f"With --loop: stop before this many seconds (default {self.default_max_seconds:g}).",
            )
            parser.add_argument(
                "--interval", type=positive_float, default=self.default_interval,
                help=f"With --loop: pause after an idle pass (default {self.default_interval:g}s).",
            )
        parser.add_argument(
            "--profile", type=profile_file, metavar="FILE",
            help="Write a cProfile profile of the run to FILE (read it with `python -m pstats FILE`).",
        )
        self.add_job_arguments(parser)

    def add_job_arguments(self, parser) -> None:
        """Options of this job (the base adds the uniform ones)."""

    def run_from_argv(self, argv) -> None:
        try:
            super().run_from_argv(argv)
        except JobFailed as failure:  # its line is already on stderr
            sys.exit(failure.exit_code)

    def handle(self, *args, **options) -> None:
        try:
            self.check_options(options)
        except CommandError as error:  # before any record: a typo by hand must not turn the job red
            raise CommandError(str(error), returncode=2) from None
        ctx = JobContext(
            name=self.job_name,
            options={k: v for k, v in options.items() if k not in DJANGO_OPTIONS},
            stdout=self.stdout,
            stderr=self.stderr,
            verbosity=options["verbosity"],
            dry_run=options.get("dry_run", False),
            batch_size=options.get("batch_size"),
        )
        execute(ctx=ctx, exclusive=self.exclusive, work=self._run_reporting_operator_errors,
                lock_group=self.shares_lock_with, timeout=self.timeout)

    def check_options(self, options: dict) -> None:
        """Refuse bad option values (raise CommandError) before a run is recorded; exit status 2."""

    def _run_reporting_operator_errors(self, job: JobContext) -> str | None:
        try:
            return self.run(job)
        except self.operator_errors as error:
            raise CommandError(str(error)) from None

    def run(self, job: JobContext) -> str | None:
        """Do the work; count with job.count(); return a one-line summary or None for the counters."""
        raise NotImplementedError
