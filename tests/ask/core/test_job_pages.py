"""The staff's Jobs pages: every scheduled job at a glance with the right status, one job's history
and chart, one run in full; staff only; /healthz links its problems there."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ask.jobs.job_days import job_days
from ask.jobs.models import JobRun
from tests.ask.jobs.factories import JobRunFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SCHEDULE = [("*/10 * * * *", "ask.jobs.cron.run", ["sample_job"]),
            ("*/10 * * * *", "ask.jobs.cron.run", ["dying_job"]),
            ("*/10 * * * *", "ask.jobs.cron.run", ["sleepy_job"]),
            ("*/10 * * * *", "ask.jobs.cron.run", ["fine_job"])]


@pytest.fixture
def staff(settings) -> Client:
    settings.CRONJOBS = SCHEDULE
    settings.JOBS_STALE_INTERVALS = 3
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


def _row(page: str, job: str) -> str:
    start = page.index(f'<a href="/jobs/{job}/">{job}</a>')
    return page[start:page.index("</tr>", start)]


def test_the_overview_shows_each_jobs_status_a_failed_a_dead_and_a_stale_one(staff):
    now = timezone.now()
    JobRunFactory(job="sample_job", status="failed", started_at=now - timedelta(minutes=1),
                  error="RuntimeError: boom\nTraceback (most recent call last): …")
    JobRunFactory(job="dying_job", status="running", started_at=now - timedelta(minutes=2))  # no process: dead
    JobRunFactory(job="sleepy_job", status="ok", started_at=now - timedelta(hours=2))  # 12 intervals back
    JobRunFactory(job="fine_job", status="ok", started_at=now - timedelta(minutes=3), summary="did 3 things")
    page = staff.get("/jobs/").content.decode()
    assert "status-failed\">failed<" in _row(page, "sample_job")
    assert "sample_job: last run failed at" in page and "RuntimeError: boom" in page
    assert "status-dead\">dead<" in _row(page, "dying_job") and "died without finishing" in page
    assert "STALE" in _row(page, "sleepy_job") and "status-ok\">ok<" in _row(page, "sleepy_job")
    fine = _row(page, "fine_job")
    assert "status-ok\">ok<" in fine and "STALE" not in fine
    assert f'<a href="/jobs/{"fine_job"}/">' in page


def test_a_jobs_page_draws_its_runs_and_lists_its_failures_and_a_runs_page_has_it_all(staff):
    now = timezone.now()
    for minutes in (50, 40, 30):
        JobRunFactory(job="sample_job", started_at=now - timedelta(minutes=minutes), summary="ok run",
                      finished_at=now - timedelta(minutes=minutes, seconds=-7))
    failed = JobRunFactory(job="sample_job", status="failed", started_at=now - timedelta(minutes=20),
                           arguments={"batch_size": 10, "dry_run": False}, counters={"rows": 25},
                           error="RuntimeError: boom\nTraceback (most recent call last):\n  File \"x.py\"")
    page = staff.get("/jobs/sample_job/").content.decode()
    assert page.count("<svg") == 2 and "Runs a day by outcome" in page and "Seconds a run took" in page
    assert "<style nonce=" in page
    failures = page[page.index("Recent failures"):page.index("Latest runs")]
    assert "RuntimeError: boom" in failures and "Traceback" not in failures, "one line each"
    assert page.count('href="/jobs/runs/') >= 5
    run = staff.get(f"/jobs/runs/{failed.pk}/").content.decode()
    assert "batch_size" in run and "rows" in run and "25" in run
    assert "ok run" in staff.get(f"/jobs/runs/{failed.pk - 1}/").content.decode(), "the summary"
    assert 'File &quot;x.py&quot;' in run, "the whole traceback, escaped"
    assert staff.get("/jobs/runs/999999/").status_code == 404
    assert staff.get("/jobs/no_such_job/").status_code == 404


def test_a_job_that_runs_every_minute_is_charted_to_today_by_outcome_in_daily_counts(staff):
    """40,000 runs a month: the first chart loaded the oldest 5,000 runs and never reached today."""
    zone = timezone.get_current_timezone()
    now = timezone.now()
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    old = today - timedelta(days=20)
    JobRun.objects.bulk_create(
        JobRun(job="sample_job", host="web1", pid=1, status="ok", started_at=old + timedelta(seconds=10 * n),
               finished_at=old + timedelta(seconds=10 * n + 2)) for n in range(6000))
    for status, seconds in (("ok", 4), ("ok", 8), ("failed", 30)):
        JobRunFactory(job="sample_job", status=status, started_at=today + timedelta(seconds=1),
                      finished_at=today + timedelta(seconds=1 + seconds))
    JobRunFactory(job="sample_job", status="running", started_at=today + timedelta(seconds=2))  # no process: dead
    JobRunFactory(job="sample_job", status="missed", started_at=today)
    JobRunFactory(job="sample_job", status="skipped", started_at=today)
    days = job_days("sample_job", days=30, now=now, zone=zone)
    assert len(days) == 30 and days[-1].day == now.astimezone(zone).date()
    assert days[-1].runs == {"ok": 2, "failed": 1, "dead": 1, "missed": 1, "running": 0}
    assert (days[-1].longest, days[-1].average) == (30.0, 14.0)
    assert days[-21].runs["ok"] == 6000 and days[-21].longest == 2.0, "every run of a busy day"
    assert sum(sum(day.runs.values()) for day in days[:-21]) == 0
    page = staff.get("/jobs/sample_job/").content.decode()
    for outcome in ("ok", "failed", "dead", "missed"):
        assert f">{outcome}</text>" in page, f"the outcomes chart's legend names {outcome}"


def test_a_scheduled_job_that_never_ran_has_its_page_with_empty_charts(staff):
    page = staff.get("/jobs/fine_job/")
    assert page.status_code == 200 and page.content.decode().count("No runs in these days") == 1
    assert "No finished runs in these days" in page.content.decode()


def test_only_staff_see_the_jobs_pages(settings):
    settings.CRONJOBS = SCHEDULE
    run = JobRunFactory(job="sample_job")
    for url in ("/jobs/", "/jobs/sample_job/", f"/jobs/runs/{run.pk}/"):
        assert Client().get(url)["Location"].startswith("/accounts/login/?next=")
        member = Client()
        member.force_login(UserFactory())
        assert member.get(url).status_code == 404


def test_healthz_links_each_job_problem_to_its_page(staff, client):
    JobRunFactory(job="sample_job", status="failed", error="RuntimeError: boom")
    body = client.get("/healthz", HTTP_AUTHORIZATION="Bearer test-healthz-token").json()
    assert body["checks"]["jobs"]["data"]["pages"]["sample_job"].endswith("/jobs/sample_job/")


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_with_kill_9_shows_dead_and_a_slot_nobody_ran_shows_missed(settings, var_dir):
    from datetime import datetime

    from ask.jobs.models import JobRun
    from ask.jobs.slots import slot_label
    from tests.support import process_env, start_manage, wait_for

    slot = (datetime.now().astimezone() - timedelta(minutes=10)).replace(second=0, microsecond=0)
    settings.CRONJOBS = [("*/10 * * * *", "ask.jobs.cron.run", ["sample_job"]),
                         (f"{slot.minute} {slot.hour} * * *", "ask.jobs.cron.run", ["daily_job"])]
    JobRunFactory(job="daily_job", started_at=slot - timedelta(days=1), slot=slot - timedelta(days=1))
    proc = start_manage("sample_job", "--sleep", "30", env=process_env(var_dir))
    wait_for(lambda: JobRun.objects.filter(job="sample_job", status="running").exists(), 20, what="the run")
    proc.kill()
    proc.wait()
    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    page = staff.get("/jobs/").content.decode()
    assert "status-dead\">dead<" in _row(page, "sample_job") and "died without finishing" in page
    assert f"MISSED {slot_label(slot)}" in _row(page, "daily_job")
