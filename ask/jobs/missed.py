"""Slots no host ran (ask.jobs.slots): found from the run records, recorded and made up by catch_up_jobs.

Only exclusive jobs claim slots, so only they can miss one; jobs that run on every host at once
(process_orders) are judged by STALE alone. A job is looked at from its own latest slot record (at least LOOKBACK
back, never before its first), so a job that never ran by schedule misses nothing (it shows NEVER,
then STALE), and a site that switches slot claiming on does not see its past as missed.
"""
import logging
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from croniter import croniter
from django.conf import settings
from django.utils import timezone

from ask.jobs.models import JobRun
from ask.jobs.schedule import ScheduledJob, job_traits, scheduled_jobs
from ask.jobs.slots import LOOKBACK, cron_now, fires_between, slot_label, window

logger = logging.getLogger(__name__)
CATCH_UP_JOB = "catch_up_jobs"
NOT_COVERING = [JobRun.Status.MISSED]  # a slot with any other record was run (or found running)


@dataclass
class Missed:
    command: str
    entries: list[ScheduledJob]
    unrecorded: list[datetime]  # missed slots no record names yet, oldest first
    current: list[datetime]  # missed slots after the latest slot that was run: what to show
    latest_covered: datetime | None

    @property
    def catch_up(self) -> str:
        return job_traits(self.command).catch_up

    def describe(self) -> str:
        newest = self.current[-1]
        more = f" and {len(self.current) - 1} earlier" if len(self.current) > 1 else ""
        return f"missed its {slot_label(newest)} run{more} (no host ran it; catch-up: {self.catch_up})"


def missed_of(command: str, entries: list[ScheduledJob], now: datetime) -> Missed | None:
    """Missed slots of one job, or None when it never claimed a slot. Index scans on (job, slot),
    however many run records the job has."""
    runs = JobRun.objects.filter(job=command, slot__isnull=False).order_by()
    latest = runs.order_by("-slot").values_list("slot", flat=True).first()
    if latest is None:
        return None
    first = runs.order_by("slot").values_list("slot", flat=True).first()
    covered = runs.exclude(status__in=NOT_COVERING).order_by("-slot").values_list("slot", flat=True).first()
    # Never before the job's first slot: the time before it was not the schedule's to miss.
    after = max(first, min(latest, now - LOOKBACK))
    statuses: dict[datetime, set[str]] = {}
    for slot, status in runs.filter(slot__gte=after).values_list("slot", "status"):
        statuses.setdefault(slot, set()).add(status)
    found: set[datetime] = set()
    for entry in entries:
        due_by = now - window(entry.schedule, now)
        found.update(fire for fire in fires_between(entry.schedule, after, due_by) if fire not in statuses)
    unrecorded = sorted(found)
    recorded_missed = [slot for slot, seen in statuses.items() if seen <= set(NOT_COVERING)]
    current = sorted(slot for slot in {*unrecorded, *recorded_missed} if covered is None or slot > covered)
    return Missed(command, entries, unrecorded, current, covered)


def missed_slots(now: datetime | None = None) -> dict[str, Missed]:
    """Every exclusive scheduled job with missed slots it has not run since, by name."""
    now = now or cron_now()
    by_command: dict[str, list[ScheduledJob]] = {}
    for entry in scheduled_jobs():
        if entry.command != CATCH_UP_JOB and job_traits(entry.command).exclusive:
            by_command.setdefault(entry.command, []).append(entry)
    found = {}
    for command, entries in by_command.items():
        missed = missed_of(command, entries, now)
        if missed and (missed.current or missed.unrecorded):
            found[command] = missed
    return found


def catch_up(*, dry_run: bool, say) -> dict[str, int]:
    """Record every newly missed slot. For a job with catch_up "once" whose newest slot is missed
    and not followed by a run, start one run for that slot (through scripts/cron-job, as cron would,
    recorded as a catch-up), at most one job per pass: after a night with every host down, the
    made-up runs follow each other a minute apart, oldest slot first, instead of all at once. The
    missed slot is recorded before the run starts, so a run that fails to start is not retried."""
    counts = {"missed": 0, "made up": 0}
    started = False
    for command, missed in sorted(missed_slots().items(), key=lambda item: item[1].unrecorded[-1:]):
        to_record = list(missed.unrecorded)
        due = bool(missed.catch_up == "once" and to_record and missed.current
                   and to_record[-1] == missed.current[-1])
        if due and started:
            continue  # its turn comes at the next pass
        for slot in to_record:
            say(f"{command}: missed its {slot_label(slot)} run")
        if due:
            say(f"{command}: making up the {slot_label(to_record[-1])} run")
        if not dry_run and to_record:
            _record_missed(command, to_record)
            if due:
                _start_catch_up(_entry_for(missed.entries, to_record[-1]), to_record[-1])
        counts["missed"] += len(to_record)
        counts["made up"] += int(due)
        started = started or due
    return counts


def _entry_for(entries: list[ScheduledJob], slot: datetime) -> ScheduledJob:
    return next((entry for entry in entries if croniter.match(entry.schedule, slot)), entries[0])


def _record_missed(command: str, slots: list[datetime]) -> None:
    now = timezone.now()
    JobRun.objects.bulk_create([
        JobRun(job=command, host=settings.HOST_NAME, pid=os.getpid(), started_at=slot, finished_at=now,
               status=JobRun.Status.MISSED, slot=slot, summary=f"no host ran its {slot_label(slot)} run")
        for slot in slots
    ])


def _start_catch_up(entry: ScheduledJob, slot: datetime) -> None:
    """In a session of its own, so it outlives this run; cron collects its output all the same."""
    cron_job = Path(settings.BASE_DIR) / "scripts" / "cron-job"
    env = {**os.environ, "ASK_JOB_SLOT": slot.isoformat(), "ASK_JOB_CATCH_UP": "1"}
    subprocess.Popen([str(cron_job), *entry.argv], env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    logger.info("%s: started a catch-up run for %s", entry.command, slot.isoformat())
