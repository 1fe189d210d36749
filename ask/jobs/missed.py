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
from django.db.models import Max, Min, Q
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
    """Missed slots of one job, or None when it never claimed a slot."""
    runs = JobRun.objects.filter(job=command, slot__isnull=False)
    marks = runs.aggregate(first=Min("slot"), latest=Max("slot"),
                           covered=Max("slot", filter=~Q(status__in=NOT_COVERING)))
    if marks["latest"] is None:
        return None
    # Never before the job's first slot: the time before it was not the schedule's to miss.
    after = max(marks["first"], min(marks["latest"], now - LOOKBACK))
    recorded = dict(runs.filter(slot__gt=after).values_list("slot", "status"))
    found: set[datetime] = set()
    for entry in entries:
        due_by = now - window(entry.schedule, now)
        found.update(fire for fire in fires_between(entry.schedule, after, due_by) if fire not in recorded)
    unrecorded = sorted(found)
    covered = marks["covered"]
    already = [slot for slot, status in recorded.items() if status == JobRun.Status.MISSED]
    current = sorted(slot for slot in {*unrecorded, *already} if covered is None or slot > covered)
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
    """Record every newly missed slot; for a job with catch_up "once" whose newest slot is missed
    and not followed by a run, start one run for that slot instead (through scripts/cron-job, as
    cron would, recorded as a catch-up)."""
    counts = {"missed": 0, "made up": 0}
    for command, missed in missed_slots().items():
        to_record = list(missed.unrecorded)
        make_up = (missed.catch_up == "once" and to_record and missed.current
                   and to_record[-1] == missed.current[-1])
        if make_up:
            slot = to_record.pop()
            say(f"{command}: making up the {slot_label(slot)} run")
            if not dry_run:
                _start_catch_up(_entry_for(missed.entries, slot), slot)
            counts["made up"] += 1
        for slot in to_record:
            say(f"{command}: missed its {slot_label(slot)} run")
        if to_record and not dry_run:
            _record_missed(command, to_record)
        counts["missed"] += len(to_record)
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
