"""The jobs' and the outbox's gauges for /metrics (ask.core.metrics), read at scrape time."""
from collections import Counter
from datetime import timedelta
from typing import Iterable

from django.db.models import Count, Min, Q
from django.utils import timezone
from post_office.models import STATUS, Email
from prometheus_client.core import GaugeMetricFamily, Metric

from ask.jobs.job_days import TIMED
from ask.jobs.models import JobRun
from ask.jobs.selectors import DEAD, dead_among, job_states

RUNS_WINDOW = timedelta(hours=24)


def jobs_gauges() -> Iterable[Metric]:
    success = GaugeMetricFamily("ask_job_last_success_timestamp_seconds",
                                "When the job's latest successful run started (Unix time)", labels=["job"])
    took = GaugeMetricFamily("ask_job_last_duration_seconds", "How long the job's latest finished run took",
                             labels=["job"])
    problem = GaugeMetricFamily("ask_job_problem", "1 when the job needs attention (failed, dead, stale, "
                                "overdue, missed), as /healthz and `manage.py jobs --check` judge", labels=["job"])
    for state in job_states():
        if state.last_success:
            success.add_metric([state.name], state.last_success.started_at.timestamp())
        finished = last_finished(state.name)  # a looping job's last run is still going 55 s a minute
        if finished is not None:
            took.add_metric([state.name], finished.duration_seconds)
        problem.add_metric([state.name], 1 if state.problem else 0)
    return [success, took, problem, runs_by_outcome()]


def last_finished(job: str) -> JobRun | None:
    return JobRun.objects.filter(job=job, status__in=TIMED).order_by("-started_at").first()


def runs_by_outcome() -> Metric:
    """A gauge over a sliding day rather than a counter: run records are pruned, and a count that
    drops would read as a counter's reset. A run whose process is gone counts as dead, not running."""
    runs = GaugeMetricFamily("ask_job_runs_last_day", "Runs started in the last 24 hours, by outcome "
                             "(ok, failed, running, dead, skipped, missed)", labels=["job", "outcome"])
    recent = JobRun.objects.filter(started_at__gte=timezone.now() - RUNS_WINDOW)
    counts = Counter({(row["job"], row["status"]): row["n"]
                      for row in recent.values("job", "status").annotate(n=Count("pk")).order_by()})
    for run in dead_among(recent):
        counts[(run.job, JobRun.Status.RUNNING)] -= 1
        counts[(run.job, DEAD)] += 1
    for (job, outcome), count in sorted(counts.items()):
        runs.add_metric([job, str(outcome)], count)
    return runs


def outbox_gauges() -> Iterable[Metric]:
    now = timezone.now()
    waiting = Email.objects.filter(status__in=[STATUS.queued, STATUS.requeued])
    due = waiting.filter(Q(scheduled_time__isnull=True) | Q(scheduled_time__lte=now))
    oldest = due.aggregate(first=Min("created"))["first"]
    depth = GaugeMetricFamily("ask_outbox_queued", "Mails waiting to be sent (due now or later)")
    depth.add_metric([], waiting.count())
    age = GaugeMetricFamily("ask_outbox_oldest_due_age_seconds", "How long the oldest mail due has waited "
                            "(0 when none is due)")
    age.add_metric([], (now - oldest).total_seconds() if oldest else 0)
    return [depth, age]
