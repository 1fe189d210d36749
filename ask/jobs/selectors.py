"""Reads of the job history: how each scheduled job is doing, for `manage.py jobs` and /healthz."""
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import QuerySet
from django.utils import timezone

from ask.jobs.locks import live_run_ids
from ask.jobs.missed import Missed, missed_slots
from ask.jobs.models import JobRun, judged_runs
from ask.jobs.schedule import ScheduledJob, job_traits, scheduled_jobs
from ask.jobs.slots import slot_label

DEAD = "dead"  # shown instead of "running" when the run's process is gone


@dataclass
class JobState:
    scheduled: ScheduledJob
    last_run: JobRun | None  # the latest run that was not skipped
    last_success: JobRun | None
    last_status: str  # ok / failed / running / dead / never
    stale: bool  # no success within JOBS_STALE_INTERVALS of its schedule
    missed: Missed | None = None  # scheduled slots no host ran, not followed by a run
    overdue_seconds: float | None = None  # the running run's bound, when it has run past it

    @property
    def notes(self) -> list[str]:
        """STALE, MISSED 04:07, OVERDUE: the flags `manage.py jobs` shows beside the status."""
        notes = ["STALE"] if self.stale else []
        if self.missed:
            notes.append(f"MISSED {', '.join(slot_label(slot) for slot in self.missed.current[-3:])}")
        if self.overdue_seconds is not None:
            notes.append("OVERDUE")
        return notes

    @property
    def name(self) -> str:
        return self.scheduled.command

    @property
    def problem(self) -> str:
        if self.last_status == JobRun.Status.FAILED:
            reason = self.last_run.error.splitlines()[0][:200]
            return f"last run failed at {self.last_run.finished_at:%Y-%m-%d %H:%M}: {reason}"
        if self.last_status == DEAD:
            return f"run {self.last_run.pk} on {self.last_run.host} died without finishing"
        if self.overdue_seconds is not None:
            running = (timezone.now() - self.last_run.started_at).total_seconds()
            return (f"overdue: run {self.last_run.pk} on {self.last_run.host} has run {running:.0f}s, "
                    f"longer than its {self.overdue_seconds:.0f}s")
        if self.missed:
            return self.missed.describe()
        if self.stale:
            since = f"{self.last_success.started_at:%Y-%m-%d %H:%M}" if self.last_success else "never"
            return f"stale: no success within {settings.JOBS_STALE_INTERVALS} intervals (last {since})"
        return ""


def with_liveness(runs: list[JobRun]) -> dict[int, str]:
    """Status of each run as shown to people: a running run whose process is gone is "dead"."""
    running = [run.pk for run in runs if run.status == JobRun.Status.RUNNING]
    alive = live_run_ids(running)
    return {run.pk: (DEAD if run.pk in running and run.pk not in alive else run.status) for run in runs}


RUNNING_LOOKED_AT = 1000  # runs recorded as running whose process is checked at most, newest first


def dead_among(runs: QuerySet[JobRun]) -> list[JobRun]:
    """Those of `runs` recorded as running whose process is gone (one look at the run locks)."""
    running = list(runs.filter(status=JobRun.Status.RUNNING).order_by("-started_at")[:RUNNING_LOOKED_AT])
    shown = with_liveness(running)
    return [run for run in running if shown[run.pk] == DEAD]


def job_states(now: datetime | None = None) -> list[JobState]:
    """One JobState per scheduled job; a few indexed queries per job (a handful of jobs)."""
    now = now or timezone.now()
    # A job that never succeeded is judged from the first job run the site recorded (cron's start),
    # or, on a site where no job ever ran (cron never set up), from when the job tables were made.
    any_run_at = JobRun.objects.order_by("started_at").values_list("started_at", flat=True).first() or installed_at()
    missed = missed_slots(now)
    states, last_runs = [], []
    for scheduled in scheduled_jobs():
        runs = judged_runs(scheduled.command)
        last_run = runs.exclude(status__in=JobRun.NOT_RUNS).order_by("-started_at").first()
        last_success = runs.filter(status=JobRun.Status.OK).order_by("-started_at").first()
        deadline = scheduled.previous_fire(now, settings.JOBS_STALE_INTERVALS)
        judged_from = last_success.started_at if last_success else any_run_at
        stale = judged_from is not None and judged_from < deadline
        job_missed = missed.get(scheduled.command)
        states.append(JobState(scheduled, last_run, last_success, "never", stale,
                               job_missed if job_missed and job_missed.current else None))
        if last_run:
            last_runs.append(last_run)
    shown = with_liveness(last_runs)
    for state in states:
        if state.last_run:
            state.last_status = shown[state.last_run.pk]
            state.overdue_seconds = _overdue(state.last_run, state.last_status, now)
    return states


def installed_at() -> datetime | None:
    """When the job framework's tables were made (its first migration applied)."""
    return (MigrationRecorder.Migration.objects.filter(app="jobs").order_by("applied")
            .values_list("applied", flat=True).first())


def _overdue(run: JobRun, status: str, now: datetime) -> float | None:
    """The run's bound if it is running past it: the job's expected_seconds, or for a loop run
    its --max-seconds and half a minute."""
    if status != JobRun.Status.RUNNING:
        return None
    bound = job_traits(run.job).expected_seconds
    if run.arguments.get("loop") and run.arguments.get("max_seconds"):
        bound = float(run.arguments["max_seconds"]) + 30
    if bound is None or (now - run.started_at).total_seconds() <= bound:
        return None
    return bound


def job_problems() -> dict[str, str]:
    """Scheduled jobs that failed last, died, run overdue, missed a slot or are stale: a line each."""
    return {state.name: state.problem for state in job_states() if state.problem}


def by_hand_runs(since: datetime) -> list[tuple[JobRun, str]]:
    """The latest run since `since` of each job that is not scheduled (import_data, restore_db, …),
    newest first, with its status as shown: what admins did by hand, beside the schedule."""
    scheduled = {job.command for job in scheduled_jobs()}
    latest: dict[str, JobRun] = {}
    for run in (JobRun.objects.filter(started_at__gte=since).exclude(job__in=scheduled)
                .exclude(status__in=JobRun.NOT_RUNS).order_by("-started_at")[:500]):
        latest.setdefault(run.job, run)
    runs = list(latest.values())
    shown = with_liveness(runs)
    return [(run, shown[run.pk]) for run in runs]


def job_history(job: str, limit: int = 20) -> list[tuple[JobRun, str]]:
    runs = list(JobRun.objects.filter(job=job).order_by("-started_at")[:limit])
    shown = with_liveness(runs)
    return [(run, shown[run.pk]) for run in runs]


def jobs_health() -> tuple[bool, str, dict]:
    """The /healthz check of the scheduled jobs (ask.core.health): failing when any needs attention."""
    problems = job_problems()
    if problems:
        return False, "; ".join(f"{name}: {problem}" for name, problem in problems.items()), {"problems": problems}
    return True, "", {}


def job_failures(job: str, limit: int = 10) -> list[JobRun]:
    """The job's latest failed runs, newest first (the page shows each error's first line)."""
    return list(JobRun.objects.filter(job=job, status=JobRun.Status.FAILED).order_by("-started_at")[:limit])
