"""One run per scheduled slot, and the slots no host ran.

The job lock stops runs that overlap in time. It does not stop a second host whose cron fires the
same 10:03 run after the first host's run has ended (hosts' clocks differ by seconds, and a short
job is done in less). So a run started by the schedule claims its slot: the job and the schedule
time it belongs to. Each host's cron fires by that host's clock, and each host works its slot out
from the same clock, as the latest schedule time at or before the run's start: hosts whose clocks
differ by less than the job's interval name the same slot. A second claim of a slot is `skipped`.

A slot's window is half the job's interval, at least 2 and at most 5 minutes. A slot that no run
claimed within its window is missed; what that means is the job's `catch_up`: "once" (the next tick
of catch_up_jobs on any host makes up one run, unless a later scheduled run has happened since) or
"skip" (recorded as missed, and shown until a later run claims its slot).

The scheduler says a run is scheduled through the environment: scripts/cron-job (every cron line)
sets ASK_JOB_SCHEDULED=1; the stand-in scheduler and catch_up_jobs set ASK_JOB_SLOT to the slot
itself (and ASK_JOB_CATCH_UP=1 for a catch-up). A run started by hand claims nothing.
"""
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter
from django.utils import timezone

from ask.jobs.schedule import schedule_of

WINDOW_MIN = timedelta(minutes=2)  # start-up time and 30 s of clock skew, with room to spare
WINDOW_MAX = timedelta(minutes=5)
# Missed slots are looked for this far back at least (further when the job's last slot is older).
LOOKBACK = timedelta(hours=1)
MAX_MISSED = 100  # slots listed per job and pass; a longer outage is summed up in one line


@dataclass(frozen=True)
class Slot:
    at: datetime  # the schedule time, aware, in TIME_ZONE (which cron's zone must be: jobs --doctor)
    catch_up: bool = False

    @property
    def label(self) -> str:
        return slot_label(self.at)


def cron_now() -> datetime:
    """The host's clock in TIME_ZONE, a zone with its DST rules (Django sets the process's zone to
    TIME_ZONE; `jobs --doctor` checks that the cron daemon fires in the same zone)."""
    return timezone.localtime()


def slot_label(at: datetime, now: datetime | None = None) -> str:
    """10:03, or 2026-12-02 10:03 when not today."""
    local, today = timezone.localtime(at), (now or cron_now()).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"


def latest_fire(schedule: str, now: datetime) -> datetime:
    """The latest schedule time at or before now."""
    minute = timezone.localtime(now).replace(second=0, microsecond=0)
    return croniter(schedule, minute + timedelta(seconds=1)).get_prev(datetime)


def window(schedule: str, at: datetime) -> timedelta:
    return min(max(interval(schedule, at) / 2, WINDOW_MIN), WINDOW_MAX)


def interval(schedule: str, at: datetime) -> timedelta:
    it = croniter(schedule, at)
    first = it.get_next(datetime)
    return it.get_next(datetime) - first


def fires_between(schedule: str, after: datetime, until: datetime) -> list[datetime]:
    """Schedule times t with after < t <= until, the newest MAX_MISSED of them, oldest first. A
    longer stretch (every host down for a week) is skipped to its last MAX_MISSED intervals."""
    after = max(after, until - interval(schedule, until) * (MAX_MISSED + 1))
    fires = []
    it = croniter(schedule, timezone.localtime(after))
    while (fire := it.get_next(datetime)) <= until:
        fires.append(fire)
        if len(fires) > MAX_MISSED:
            fires.pop(0)
    return fires


def started_by_schedule() -> bool:
    """Started by cron (its crontab lines set ASK_JOB_SCHEDULED=1), the stand-in or catch_up_jobs."""
    return os.environ.get("ASK_JOB_SCHEDULED") == "1" or bool(os.environ.get("ASK_JOB_SLOT"))


def scheduled_slot(job: str, now: datetime | None = None) -> Slot | None:
    """The slot this run was started for, or None for a run started by hand."""
    explicit = os.environ.get("ASK_JOB_SLOT")
    if explicit:
        try:
            at = timezone.localtime(datetime.fromisoformat(explicit))  # naive: ValueError too
        except ValueError:
            raise ValueError(f"ASK_JOB_SLOT={explicit!r} is not a date and time with its UTC offset "
                             "(ISO 8601, as the scheduler writes it)") from None
        return Slot(at, os.environ.get("ASK_JOB_CATCH_UP") == "1")
    if os.environ.get("ASK_JOB_SCHEDULED") != "1":
        return None
    entries = schedule_of(job)
    if not entries:
        return None  # a crontab line the schedule no longer has (`jobs --doctor` names it)
    now = now or cron_now()
    return Slot(max(latest_fire(entry.schedule, now) for entry in entries))
