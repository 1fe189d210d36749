"""Reads the site's schedule (settings.CRONJOBS) and answers when each job should last have run."""
import functools
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.utils import timezone

RUNNER = "ask.jobs.cron.run"


@dataclass(frozen=True)
class ScheduledJob:
    command: str
    schedule: str  # five cron fields, in the cron daemon's time zone
    args: tuple[str, ...] = ()

    @property
    def argv(self) -> tuple[str, ...]:
        return (self.command, *self.args)

    def previous_fire(self, now: datetime, intervals_back: int = 1) -> datetime:
        """The time cron started this job `intervals_back` schedules ago (1 = the latest). The fields
        are read in TIME_ZONE, the zone cron runs in (jobs --doctor checks that), DST included."""
        it = croniter(self.schedule, timezone.localtime(now))
        fire = now
        for _ in range(intervals_back):
            fire = it.get_prev(datetime)
        return fire

    def next_fire(self, now: datetime) -> datetime:
        """The next time cron starts this job."""
        return croniter(self.schedule, timezone.localtime(now)).get_next(datetime)


def scheduled_jobs() -> list[ScheduledJob]:
    jobs = []
    for entry in settings.CRONJOBS:
        schedule, runner, argv = entry[0], entry[1], entry[2]
        if runner != RUNNER:
            raise ValueError(f"CRONJOBS entry {entry!r} must run {RUNNER} so the job framework sees it.")
        jobs.append(ScheduledJob(command=argv[0], schedule=schedule, args=tuple(argv[1:])))
    return jobs


def schedule_of(command: str) -> list[ScheduledJob]:
    return [job for job in scheduled_jobs() if job.command == command]


@dataclass(frozen=True)
class JobTraits:
    """What a job's command class declares about it (ask.jobs.command.JobCommand)."""

    exclusive: bool = True
    catch_up: str = "skip"  # what a missed slot means: "once" (made up once) or "skip"
    expected_seconds: float | None = None  # a run still going after this is OVERDUE


@functools.cache
def job_traits(command: str) -> JobTraits:
    app = get_commands().get(command)
    job = load_command_class(app, command) if app else None
    return JobTraits(
        exclusive=getattr(job, "exclusive", True),
        catch_up=getattr(job, "catch_up", "skip"),
        expected_seconds=getattr(job, "expected_seconds", None),
    )
