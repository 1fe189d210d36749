"""Writes to the job history: opening, closing and pruning JobRun records."""
import logging
import os
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, Error, IntegrityError, connection, transaction
from django.utils import timezone

from ask.jobs.batches import delete_in_batches
from ask.jobs.models import JobRun, judged_runs
from ask.jobs.slots import Slot

logger = logging.getLogger(__name__)

# Rows deleted per statement when pruning: 5,000 small rows ≈ a few MB of WAL and well under a second.
PRUNE_BATCH_SIZE = 5000
# How long a run whose database went away keeps trying to record its end (a restart takes seconds).
RECORD_RETRY_SECONDS = 30


def job_run_start(*, job: str, arguments: dict, dry_run: bool, skipped: bool = False, slot: Slot | None = None,
                  summary: str = "") -> JobRun:
    now = timezone.now()
    return JobRun.objects.create(
        job=job,
        host=settings.HOST_NAME,
        pid=os.getpid(),
        arguments=arguments,
        dry_run=dry_run,
        started_at=now,
        finished_at=now if skipped else None,
        status=JobRun.Status.SKIPPED if skipped else JobRun.Status.RUNNING,
        summary=summary or ("already running elsewhere" if skipped else ""),
        slot=slot.at if slot else None,
        catch_up=bool(slot and slot.catch_up),
    )


def job_run_holding(jobs: tuple[str, ...], wait_seconds: float = 2) -> JobRun | None:
    """The run in progress of these jobs (sharing one lock), the one holding it. The holder records
    its run just after it takes the lock, so a moment is given for the record to appear."""
    deadline = time.monotonic() + wait_seconds
    while True:
        run = JobRun.objects.filter(job__in=jobs, status=JobRun.Status.RUNNING).order_by("-started_at").first()
        if run is not None or time.monotonic() >= deadline:
            return run
        time.sleep(0.1)


def job_run_claim(*, job: str, arguments: dict, dry_run: bool, slot: Slot) -> JobRun:
    """Start a run for its slot; when another host claimed it first, a skipped run whose summary
    names that host ("already ran for 10:03 on web1")."""
    try:
        with transaction.atomic():
            return job_run_start(job=job, arguments=arguments, dry_run=dry_run, slot=slot)
    except IntegrityError:  # jobs_run_one_per_slot
        holder = JobRun.objects.filter(job=job, slot=slot.at).exclude(status__in=JobRun.NOT_RUNS).first()
        where = f" on {holder.host}" if holder else ""
        return job_run_start(job=job, arguments=arguments, dry_run=dry_run, skipped=True, slot=slot,
                             summary=f"already ran for {slot.label}{where}")


def storable(text: str) -> str:
    """Text PostgreSQL can store: an error quoting a binary file has NUL bytes in it, which a text
    column refuses (the record was lost and the run shown as dead)."""
    return text.replace("\x00", "\\x00")


def job_run_finish(*, run: JobRun, status: str, counters: dict, summary: str = "", error: str = "") -> None:
    """Close the record. When the database went away under the run (a restart, a fail-over), keep
    trying on a fresh connection for RECORD_RETRY_SECONDS, so the run is recorded as soon as it
    answers; after that the run stays `running` and shows as dead (its run lock died with the server)."""
    run.status, run.counters = status, counters
    run.summary, run.error = storable(summary)[:500], storable(error)
    run.finished_at = timezone.now()
    fields = ["status", "counters", "summary", "error", "finished_at"]
    deadline, pause = time.monotonic() + RECORD_RETRY_SECONDS, 0.25
    while True:
        try:
            if connection.in_atomic_block and connection.needs_rollback:
                raise DatabaseError("connection left in a failed transaction")
            if not JobRun.objects.filter(pk=run.pk).update(**{f: getattr(run, f) for f in fields}):
                # The record is gone: the job replaced the whole database (restore_db). Record the
                # run in the database as it is now.
                run.pk = None
                run.save()
            return
        except Error:  # InterfaceError ("connection already closed") is not a DatabaseError
            if connection.in_atomic_block or time.monotonic() >= deadline:
                logger.exception("could not record the end of %s run %s", run.job, run.pk)
                return
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 4)


def job_runs_prune(*, older_than_days: int, dry_run: bool, batch_size: int = PRUNE_BATCH_SIZE) -> int:
    """Delete runs started before the cutoff, keeping each job's latest run and latest success
    (not skipped, missed or dry runs): what `manage.py jobs` and /healthz judge a job by
    (ask.jobs.models.judged_runs), however long ago they were.
    """
    cutoff = timezone.now() - timedelta(days=older_than_days)
    keep: set[int] = set()
    for job in JobRun.objects.order_by().values_list("job", flat=True).distinct():
        runs = judged_runs(job).order_by("-started_at", "-id").values_list("id", flat=True)
        keep.update(runs.exclude(status__in=JobRun.NOT_RUNS)[:1])
        keep.update(runs.filter(status=JobRun.Status.OK)[:1])
    old = JobRun.objects.filter(started_at__lt=cutoff).exclude(id__in=keep)
    if dry_run:
        return old.count()
    return delete_in_batches(old, batch_size=batch_size)
