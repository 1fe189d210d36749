"""A job's runs per day, counted in the database: what its Jobs page charts.

A job that runs every minute on every host makes 40,000 and more runs in 30 days; drawing or even
loading each one (the first chart did, and stopped at its first 5,000, the oldest) is not an option.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max
from django.db.models.functions import TruncDate

from ask.jobs.models import JobRun
from ask.jobs.selectors import DEAD, dead_among

# The outcomes charted, in their order; a run still going is "running", one whose process is gone "dead".
OUTCOMES = (JobRun.Status.OK, JobRun.Status.FAILED, DEAD, JobRun.Status.MISSED, JobRun.Status.RUNNING)
TIMED = (JobRun.Status.OK, JobRun.Status.FAILED)  # runs that did work: a missed slot's record took no time


@dataclass
class JobDay:
    day: date
    runs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    longest: float | None = None  # seconds, of the runs that finished
    average: float | None = None


def job_days(job: str, *, days: int, now: datetime, zone: tzinfo) -> list[JobDay]:
    """One JobDay for each of the last `days` days in `zone`, today included (days without runs too);
    skipped runs are left out (another run had the lock: nothing happened)."""
    last = now.astimezone(zone).date()
    first = last - timedelta(days=days - 1)
    by_day = {first + timedelta(days=n): JobDay(first + timedelta(days=n)) for n in range(days)}
    runs = (JobRun.objects.filter(job=job, started_at__gte=datetime.combine(first, time(), tzinfo=zone))
            .exclude(status=JobRun.Status.SKIPPED))
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    rows = (runs.annotate(day=TruncDate("started_at", tzinfo=zone)).values("day", "status")
            .annotate(count=Count("id"), longest=Max(took), average=Avg(took)).order_by())
    finished: dict[date, tuple[float, int]] = {}  # seconds in all and runs, for the average
    for row in rows:
        one = by_day.get(row["day"])
        if one is None:
            continue
        one.runs[row["status"]] = one.runs.get(row["status"], 0) + row["count"]
        if row["status"] in TIMED and row["longest"] is not None:
            longest = row["longest"].total_seconds()
            one.longest = longest if one.longest is None else max(one.longest, longest)
            total, count = finished.get(one.day, (0.0, 0))
            finished[one.day] = (total + row["average"].total_seconds() * row["count"], count + row["count"])
    for day, (total, count) in finished.items():
        by_day[day].average = total / count
    _dead_apart(runs, by_day, zone)
    return list(by_day.values())


def _dead_apart(runs, by_day: dict[date, JobDay], zone: tzinfo) -> None:
    """Runs recorded as running whose process is gone count as dead."""
    for run in dead_among(runs):
        one = by_day.get(run.started_at.astimezone(zone).date())
        if one is not None:
            one.runs[JobRun.Status.RUNNING] -= 1
            one.runs[DEAD] += 1
