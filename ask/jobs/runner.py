"""Runs one job: lock, run record, signals, output and exit status. JobCommand calls this."""
import logging
import re
import signal
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, TypeVar

from django.conf import settings
from django.core.management.base import CommandError, OutputWrapper
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils import timezone
from tqdm import tqdm

from ask.jobs.abandoned import transaction_abandon
from ask.jobs.deadline import limited, run_limit, said
from ask.jobs.fencing import Fence, LockLost, LockLostInterrupt
from ask.jobs.log_context import job_logged, run_logged
from ask.jobs.locks import LockNotExclusive, open_locks, uses_postgres
from ask.jobs.models import JobRun
from ask.jobs.profiling import profiled
from ask.jobs.services import job_run_claim, job_run_finish, job_run_holding, job_run_start
from ask.jobs.slots import scheduled_slot, started_by_schedule

logger = logging.getLogger("ask.jobs")
T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2  # as argparse: the command line (or the scheduler's environment) is wrong
EXIT_TEMPFAIL = 75  # the database could not be reached before any work (sysexits.h EX_TEMPFAIL)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it
EXIT_TERMINATED = 143  # SIGTERM (e.g. the cron wrapper's timeout), as shells report it
EXIT_PIPE = 141  # stdout's reader went away (SIGPIPE), as shells report it


class JobFailed(Exception):
    """A job failed; its line is on stderr and its JobRun says failed. Carries the exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class JobCheckFailed(Exception):
    """A job's own check of its results failed (JobContext.expect): recorded failed, one line."""


class OutputClosed(Exception):
    """The reader of the job's stdout went away (`export_data ... | head`): the run stops there,
    recorded failed with this reason and exit 141, without a traceback."""


class JobTerminated(BaseException):
    """SIGTERM arrived. A BaseException, so a job's own `except Exception` cannot swallow it."""


@dataclass
class JobContext:
    """What a job's run() gets: its options and the helpers for counting, reporting and looping."""

    name: str
    options: dict
    stdout: OutputWrapper
    stderr: OutputWrapper
    verbosity: int = 1
    dry_run: bool = False
    batch_size: int | None = None
    counters: dict = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    # Set by SIGTERM in loop mode: the loop ends after its current pass instead of mid-work.
    stop: threading.Event = field(default_factory=threading.Event)
    # The run's time limit (ask.jobs.deadline), and whether it ran out: a SIGTERM then says "timed out".
    limit: float | None = None
    timed_out: threading.Event = field(default_factory=threading.Event)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def count(self, counter: str, n: int = 1) -> None:
        self.counters[counter] = self.counters.get(counter, 0) + n

    def info(self, message: str) -> None:
        """Per-batch detail: shown at --verbosity 2 and up."""
        if self.verbosity >= 2:
            self.stdout.write(message)

    def detail(self, message: str) -> None:
        """Per-object detail: shown at --verbosity 3."""
        if self.verbosity >= 3:
            self.stdout.write(message)

    def progress(self, iterable: Iterable[T], *, total: int | None = None, desc: str = "",
                 unit: str = "rows") -> Iterable[T]:
        """A progress bar on stderr when a person watches (a terminal), nothing under cron."""
        if self.verbosity < 1 or not self.stderr.isatty():
            return iterable
        return tqdm(iterable, total=total, desc=desc or self.name, unit=unit, file=self.stderr._out, dynamic_ncols=True)

    def meter(self, *, total: int | None, desc: str = "", unit: str = "rows") -> "tqdm | _NoMeter":
        """A progress bar to update(n) by hand (same rules as progress); close() it when done."""
        if self.verbosity < 1 or not self.stderr.isatty():
            return _NoMeter()
        return tqdm(total=total, desc=desc or self.name, unit=unit, file=self.stderr._out, dynamic_ncols=True)

    def expect(self, condition: bool, message: str) -> None:
        """A job's assertion on what it found, before it writes: fails the run with "check failed:
        message" (e.g. calc_sidebar finding no tags on a site with tagged questions)."""
        if not condition:
            raise JobCheckFailed(message)

    def say(self, message: str) -> None:
        """Normal output of the job (what --dry-run lists, for example): shown at verbosity 1 and up."""
        if self.verbosity >= 1:
            self.stdout.write(message)

    def passes(self, body: Callable[[], int], wait: Callable[[float], None] | None = None) -> int:
        """Run body() once, or with --loop repeatedly until --max-seconds would be overrun.

        body returns how much it did; in loop mode an idle pass waits --interval before the next:
        wait(seconds) when given (it may return early: woken by the database, say), else a sleep
        that SIGTERM ends.
        """
        if not self.options.get("loop"):
            return body()
        max_seconds, interval = self.options["max_seconds"], self.options["interval"]
        done = 0
        while not self.stop.is_set():
            did = body()
            done += did
            elapsed = time.monotonic() - self.started
            pause = 0 if did else interval
            if elapsed + pause >= max_seconds:
                return done
            if pause:
                (wait or self.stop.wait)(min(pause, max_seconds - elapsed))
        self.count("stopped by SIGTERM")
        return done


class _NoMeter:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def _sigterm_handled(ctx: JobContext) -> Iterator[None]:
    """SIGTERM ends a loop job after its current pass (a clean stop); any other job is recorded as
    failed by JobTerminated before the process ends. Installed before the run is recorded, so a
    SIGTERM at the very start is no silent death either; raised once, so a second SIGTERM cannot
    break the recording of the first (the wrapper's SIGKILL, 30 s later, is the backstop)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = threading.Event()

    def handler(signum, frame):
        if ctx.options.get("loop") and not ctx.stop.is_set() and not ctx.timed_out.is_set():
            ctx.stop.set()
            return
        if not raised.is_set():
            raised.set()
            raise JobTerminated(_terminated_reason(ctx))

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminated_reason(ctx: JobContext) -> str:
    if ctx.timed_out.is_set() and ctx.limit:
        return (f"timed out after {said(ctx.limit)} (its limit; ASK_JOB_TIMEOUT sets another) and was stopped "
                "by SIGTERM")
    return "terminated by SIGTERM (timeout or shutdown)"


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _summary(ctx: JobContext, returned: str | None) -> str:
    said = returned or ", ".join(f"{value} {key}" for key, value in ctx.counters.items()) or "done"
    seconds = time.monotonic() - ctx.started
    return f"{said}{' (dry run, nothing changed)' if ctx.dry_run else ''} in {seconds:.1f}s"


def execute(*, ctx: JobContext, exclusive: bool, work: Callable[[JobContext], str | None],
            lock_group: tuple[str, ...] = (), timeout: float | None = None) -> None:
    """Run work(ctx) as job ctx.name; raises JobFailed (or the job's CommandError) on failure.

    lock_group: jobs that exclude each other (backup_db and restore_db), sharing one lock and lease.
    timeout: the job's own time limit under the schedule (ask.jobs.deadline)."""
    with job_logged(ctx.name):  # every line logged names the job, and its run once recorded (LOG_FORMAT=json)
        _execute(ctx=ctx, exclusive=exclusive, work=work, lock_group=lock_group, timeout=timeout)


def _execute(*, ctx: JobContext, exclusive: bool, work: Callable[[JobContext], str | None],
             lock_group: tuple[str, ...], timeout: float | None) -> None:
    group = tuple(sorted({ctx.name, *lock_group}))
    lock = "+".join(group)
    arguments = {k: v for k, v in ctx.options.items() if _is_plain(v)}
    try:
        slot = scheduled_slot(ctx.name) if exclusive else None  # jobs on every host claim no slots
        ctx.limit = run_limit(timeout)
    except ValueError as exc:  # the scheduler's environment is wrong: nothing can be claimed
        _refuse(ctx, f"{ctx.name}: {exc}; nothing done", EXIT_USAGE)
    try:
        locks = open_locks()
    except LockNotExclusive as exc:
        _refuse(ctx, f"{ctx.name}: {exc}; nothing done", EXIT_FAILED)
    run = None
    try:
        with _sigterm_handled(ctx), limited(ctx.limit, ctx.timed_out):
            try:
                if exclusive and not locks.try_job_lock(lock):
                    _skipped_while_running(ctx, arguments, slot, group)
                    return
                if slot is None:
                    run = job_run_start(job=ctx.name, arguments=arguments, dry_run=ctx.dry_run)
                else:
                    run = job_run_claim(job=ctx.name, arguments=arguments, dry_run=ctx.dry_run, slot=slot)
                    if run.status == JobRun.Status.SKIPPED:
                        if ctx.verbosity >= 1:
                            ctx.stdout.write(f"{ctx.name}: {run.summary}; skipped.")
                        return
                run_logged(run.pk)
                locks.hold_run_lock(run.pk)
                _journal(f"{ctx.name} run {run.pk} started on {run.host} (pid {run.pid})"
                         + (f" for its {slot.label} slot{' (catch-up)' if slot.catch_up else ''}" if slot else ""))
            except OperationalError as exc:  # before any work: the database is down or out of reach
                if run is not None:  # recorded, then the run lock's connection failed: not left `running`
                    _fail(ctx, run, f"database unreachable: {unreachable_reason(exc)}; nothing done", EXIT_TEMPFAIL)
                _unreachable(ctx, exc)
            except LockNotExclusive as exc:
                _refuse(ctx, f"{ctx.name}: {exc}; nothing done", EXIT_FAILED)
            except DatabaseError as exc:  # e.g. a table or column missing: deployed, not yet migrated
                _refuse(ctx, f"{ctx.name}: database not ready: {one_line(exc)} (not migrated yet?); nothing done",
                        EXIT_FAILED)
            except JobTerminated as exc:
                if run is None:
                    _refuse(ctx, f"{ctx.name}: terminated by SIGTERM before it started; nothing done", EXIT_TERMINATED)
                _fail(ctx, run, str(exc), EXIT_TERMINATED)
            fence = (Fence(job=lock, run_id=run.pk, still_locked=lambda: locks.holds_job_lock(lock))
                     if exclusive and uses_postgres() else None)
            _run_recorded(ctx, run, work, fence)
    finally:
        locks.close()


def _skipped_while_running(ctx: JobContext, arguments: dict, slot, group: tuple[str, ...]) -> None:
    """Another run holds the job's lock. Under cron that is normal (exit 0, quiet at -v0); by hand
    the admin wanted it done, so it says who holds it and exits 75 like `flock -n` would fail."""
    holder = job_run_holding(group)
    other = f"{holder.job} " if holder and holder.job != ctx.name else ""
    where = (f"{other}on {holder.host} (pid {holder.pid}, run {holder.pk}, since "
             f"{timezone.localtime(holder.started_at):%H:%M:%S})" if holder else "elsewhere")
    job_run_start(job=ctx.name, arguments=arguments, dry_run=ctx.dry_run, skipped=True, slot=slot,
                  summary=f"already running {where}")
    line = f"{ctx.name}: already running {where}; skipped."
    _journal(line)
    if started_by_schedule():
        if ctx.verbosity >= 1:
            ctx.stdout.write(line)
        return
    ctx.stderr.write(line)
    raise JobFailed(line, EXIT_TEMPFAIL)


def _unreachable(ctx: JobContext, exc: OperationalError) -> None:
    """Exit 75 (EX_TEMPFAIL: try again later)."""
    _refuse(ctx, f"{ctx.name}: database unreachable: {unreachable_reason(exc)}; nothing done", EXIT_TEMPFAIL)


def _journal(message: str, level: int = logging.INFO) -> None:
    """Every run's start and end in the job log (cron: var/log/jobs.log), so "why did last night's
    backup fail?" has an answer there. Only to a log file: by hand the log is stderr, which the run's
    own lines already cover."""
    if settings.LOG_FILE:
        logger.log(level, message)


def _refuse(ctx: JobContext, line: str, exit_code: int) -> None:
    """A run that could not start: one line on stderr and in the job log. No run record could be
    written (or none was), so the log file is the record."""
    _journal(line, logging.ERROR)
    ctx.stderr.write(line)
    raise JobFailed(line, exit_code) from None


@contextmanager
def _fenced(fence: Fence | None) -> Iterator[None]:
    """The run's writes checked against its lease (exclusive jobs on PostgreSQL); see ask.jobs.fencing."""
    if fence is None:
        yield
        return
    fence.install()
    try:
        yield
    finally:
        fence.remove()


def _run_recorded(ctx: JobContext, run: JobRun, work: Callable[[JobContext], str | None],
                  fence: Fence | None = None) -> None:
    outside = not connection.in_atomic_block
    try:
        # Unfenced before the profile is written (SIGTERM: see execute).
        with profiled(ctx.options.get("profile"), ctx), _fenced(fence):
            returned = work(ctx)
            if fence is not None and not fence.lost.is_set() and not fence.still_locked():
                fence.lost.set()  # lost after the watcher's last look: the run did not finish as the holder
            if fence is not None and fence.lost.is_set():
                raise LockLost(fence.reason())
    except (LockLost, LockLostInterrupt) as exc:
        _fail(ctx, run, str(exc), EXIT_FAILED)
    except JobCheckFailed as exc:
        _fail(ctx, run, f"check failed: {exc}", EXIT_FAILED)
    except OutputClosed as exc:
        _fail(ctx, run, str(exc), EXIT_PIPE)
    except CommandError as exc:  # the operator's mistake (bad file, bad option): no traceback
        job_run_finish(run=run, status=JobRun.Status.FAILED, counters=ctx.counters, error=str(exc))
        _journal(f"{ctx.name} run {run.pk} failed in {ctx.elapsed():.1f}s: {one_line(exc)}", logging.ERROR)
        raise
    except JobTerminated as exc:
        transaction_abandon(was_outside=outside)
        _fail(ctx, run, str(exc) or _terminated_reason(ctx), EXIT_TERMINATED)
    except KeyboardInterrupt:
        transaction_abandon(was_outside=outside)
        _fail(ctx, run, "interrupted (Ctrl-C)", EXIT_INTERRUPTED)
    except Exception as exc:
        if fence is not None and fence.lost.is_set():  # the loss surfaced as the job's own error
            _fail(ctx, run, fence.reason(), EXIT_FAILED)
        if isinstance(exc, (OperationalError, InterfaceError)):  # the database went away mid-run
            _fail(ctx, run, f"database connection lost: {unreachable_reason(exc)}", EXIT_FAILED, bug=exc,
                  log_bug=bool(settings.LOG_FILE))  # by hand the log is stderr: the one line says it
        _fail(ctx, run, one_line(exc), EXIT_FAILED, bug=exc)
    summary = _summary(ctx, returned)
    job_run_finish(run=run, status=JobRun.Status.OK, counters=ctx.counters, summary=summary)
    _journal(f"{ctx.name} run {run.pk} ok: {summary}")
    if ctx.verbosity >= 1:
        ctx.stdout.write(f"{ctx.name}: {summary}")


def _fail(ctx: JobContext, run: JobRun, reason: str, exit_code: int, bug: Exception | None = None,
          log_bug: bool = True) -> None:
    """Record, log and report a failure in one line on stderr, then raise JobFailed."""
    details = "".join(traceback.format_exception(bug)) if bug else ""
    job_run_finish(run=run, status=JobRun.Status.FAILED, counters=ctx.counters, error=f"{reason}\n{details}".strip())
    logged = f"{ctx.name} run {run.pk} failed in {ctx.elapsed():.1f}s: {reason}"
    if bug is not None and log_bug:
        logger.error(logged, exc_info=bug)
    else:
        _journal(logged, logging.ERROR)
    line = f"{ctx.name} failed: {reason} (run {run.pk} on {run.host}; `manage.py jobs --run {run.pk}` shows it)"
    ctx.stderr.write(line)
    raise JobFailed(line, exit_code) from bug


def unreachable_reason(exc: Exception) -> str:
    """The driver's first line, shortened: "connection refused at 127.0.0.1:5432", "timeout expired"."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = re.match(r'connection to server at "([^"]+)"(?: \([^)]*\))?, port (\d+) failed: (.*)', text)
    if where:
        host, port, reason = where.groups()
        reason = re.sub(r"^FATAL:\s+", "", reason)
        if reason[1:2].islower():  # "Connection refused", not "SSL ..."
            reason = reason[:1].lower() + reason[1:]
        return f"{reason} at {host}:{port}"
    return text


def _is_plain(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list))
