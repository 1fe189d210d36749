"""The staff's Jobs pages: every scheduled job at a glance, one job's last 30 days, one run in full.
The same readings as `manage.py jobs` (ask.jobs.selectors), for a browser."""
from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import mark_safe

from ask.core.access import staff_required
from ask.core.job_charts import durations_chart, outcomes_chart
from ask.jobs.job_days import job_days
from ask.jobs.models import JobRun
from ask.jobs.schedule import scheduled_jobs
from ask.jobs.selectors import (
    by_hand_runs,
    job_failures,
    job_history,
    job_states,
    with_liveness,
)

CHART_DAYS = 30
BY_HAND_DAYS = 7


@staff_required
def jobs_overview(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    states = job_states(now)
    for state in states:
        state.next_run = state.scheduled.next_fire(now)
    return render(request, "jobs/overview.html", {
        "states": states, "by_hand": by_hand_runs(now - timedelta(days=BY_HAND_DAYS)), "by_hand_days": BY_HAND_DAYS})


@staff_required
def job_page(request: HttpRequest, job: str) -> HttpResponse:
    now = timezone.now()
    states = [state for state in job_states(now) if state.name == job]
    history = job_history(job, limit=50)
    if not states and not history:
        raise Http404("No such job.")
    days = job_days(job, days=CHART_DAYS, now=now, zone=timezone.get_current_timezone())
    charts = [outcomes_chart(days, title=f"Runs a day by outcome, last {CHART_DAYS} days"),
              durations_chart(days, title="Seconds a run took: the longest and the average of each day")]
    return render(request, "jobs/job.html", {
        "job": job, "states": states, "history": history, "failures": job_failures(job),
        "charts": [mark_safe(svg) for svg, _ in charts], "chart_css": mark_safe("\n".join(css for _, css in charts)),
        "next_runs": [entry.next_fire(now) for entry in scheduled_jobs() if entry.command == job]})


@staff_required
def run_page(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(JobRun, pk=pk)
    return render(request, "jobs/run.html", {"run": run, "shown": with_liveness([run])[run.pk]})
