"""How jobs are reported: `manage.py jobs`, STALE, /healthz, and pruning of the history."""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import MemberSession
from ask.jobs.models import JobRun
from ask.jobs.selectors import job_states
from tests.ask.jobs.factories import JobRunFactory

EVERY_10_MINUTES = [("*/10 * * * *", "ask.jobs.cron.run", ["sample_job"])]
NOW = datetime(2026, 11, 23, 12, 5, tzinfo=dt_timezone.utc)


@pytest.fixture
def scheduled(settings):
    settings.CRONJOBS = EVERY_10_MINUTES
    settings.JOBS_STALE_INTERVALS = 3


def jobs_output(*args) -> str:
    out = StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_job_is_stale_once_it_missed_its_last_few_intervals(scheduled):
    JobRunFactory(started_at=NOW - timedelta(minutes=30))  # 11:35; the 3rd schedule back is 11:40
    (state,) = job_states(now=NOW)
    assert state.stale and "stale" in state.problem
    JobRunFactory(started_at=NOW - timedelta(minutes=20))  # 11:45: within three intervals
    (state,) = job_states(now=NOW)
    assert not state.stale and state.problem == ""


@pytest.mark.django_db
def test_a_job_whose_last_run_failed_is_a_problem_until_it_succeeds(scheduled):
    JobRunFactory(started_at=NOW - timedelta(minutes=4), status="ok")
    JobRunFactory(started_at=NOW - timedelta(minutes=1), status="failed", error="RuntimeError: boom\nTraceback")
    (state,) = job_states(now=NOW)
    assert state.last_status == "failed" and "RuntimeError: boom" in state.problem
    JobRunFactory(started_at=NOW, status="skipped")
    assert job_states(now=NOW)[0].last_status == "failed", "a skipped run changes nothing"
    JobRunFactory(started_at=NOW, status="ok")
    assert job_states(now=NOW)[0].problem == ""


@pytest.mark.django_db
def test_a_never_run_job_is_not_stale_until_cron_has_run_something(scheduled):
    assert job_states(now=NOW)[0].stale is False
    JobRunFactory(job="other_job", started_at=NOW - timedelta(hours=1))
    assert job_states(now=NOW)[0].stale is True


@pytest.mark.django_db
def test_jobs_lists_each_scheduled_job_with_status_and_flags_stale(scheduled):
    JobRunFactory(started_at=timezone.now() - timedelta(days=2), status="ok")
    out = jobs_output()
    header, row, blank, note = out.splitlines()
    assert blank == "" and note == "backups: no backup verified yet", "the backups' state below the jobs"
    assert header.split() == ["JOB", "SCHEDULE", "LAST", "RUN", "TOOK", "STATUS", "LAST", "OK", "NEXT", "NOTES"]
    assert row.startswith("sample_job") and "*/10 * * * *" in row and " ok " in row and row.endswith("STALE")


@pytest.mark.django_db
def test_the_overview_says_when_each_job_runs_next_and_lists_the_runs_by_hand_below(settings):
    settings.CRONJOBS = [("30 2 * * *", "ask.jobs.cron.run", ["sample_job"])]
    JobRunFactory(job="import_data", status="failed", error="tags.csv: line 3: bad\nmore", host="web2", pid=42)
    JobRunFactory(job="restore_db", status="ok", summary="restored ask-20261203-023000.dump",
                  started_at=timezone.now() - timedelta(days=8))  # older than a week: not shown
    now = timezone.localtime()
    following = now.replace(hour=2, minute=30) + timedelta(days=1 if (now.hour, now.minute) >= (2, 30) else 0)
    lines = jobs_output().splitlines()
    assert lines[1].split()[:3] == ["sample_job", "30", "2"] and f"{following:%m-%d} 02:30" in lines[1]
    assert lines[2] == "" and lines[3].split()[:3] == ["BY", "HAND", "RUN"]
    assert lines[4].startswith("import_data") and "FAILED  web2:42  tags.csv: line 3: bad" in lines[4]
    assert lines[5:] == ["", "backups: no backup verified yet"]
    assert len(lines) == 7 and all(len(line) <= 100 for line in lines)


@pytest.mark.django_db
def test_jobs_check_exits_1_when_a_job_needs_attention(scheduled):
    JobRunFactory(status="failed", error="RuntimeError: boom")
    with pytest.raises(CommandError, match="1 job"):
        call_command("jobs", "--check", stdout=StringIO(), stderr=StringIO())
    JobRunFactory(status="ok")
    jobs_output("--check")


@pytest.mark.django_db
def test_jobs_shows_one_job_history_and_one_run_in_full(scheduled):
    why = "pg_dump: error: " + "the reason, in full, " * 15
    run = JobRunFactory(status="failed", error=f"{why}\nTraceback (most recent call last): ...")
    assert f"{run.pk}" in jobs_output("sample_job") and "failed" in jobs_output("sample_job")
    assert jobs_output("sample_job").splitlines()[1].endswith(why.rstrip()), "the error's first line whole"
    detail = jobs_output("--run", str(run.pk))
    assert "status: failed" in detail and "Traceback (most recent call last)" in detail
    with pytest.raises(CommandError, match="no job run 999999"):
        jobs_output("--run", "999999")
    with pytest.raises(CommandError, match="No runs recorded"):
        jobs_output("no_such_job")


@pytest.mark.django_db
def test_healthz_reports_a_failed_job_as_degraded(client, scheduled):
    JobRunFactory(status="failed", error="RuntimeError: boom")
    body = client.get("/healthz", HTTP_AUTHORIZATION="Bearer test-healthz-token").json()
    assert body["status"] == "degraded"
    assert "sample_job" in body["checks"]["jobs"]["data"]["problems"]
    JobRunFactory(status="ok")
    assert client.get("/healthz").json()["status"] == "ok"


@pytest.mark.django_db
def test_prune_job_runs_keeps_recent_runs_and_each_jobs_latest_run_and_success(settings):
    old = timezone.now() - timedelta(days=100)
    last_ok = JobRunFactory(job="nightly", started_at=old - timedelta(days=1), status="ok")
    last_failed = JobRunFactory(job="nightly", started_at=old, status="failed")
    older = [JobRunFactory(job="nightly", started_at=old - timedelta(days=3 + i), status="ok") for i in range(3)]
    recent = JobRunFactory(job="minutely", started_at=timezone.now() - timedelta(days=1))
    stale = JobRunFactory(job="minutely", started_at=old)
    out = StringIO()
    call_command("prune_job_runs", "--dry-run", stdout=out)
    assert "would delete 4 run records older than 90 days" in out.getvalue()
    assert JobRun.objects.filter(job__in=["nightly", "minutely"]).count() == 7
    call_command("prune_job_runs", "--batch-size", "2", stdout=StringIO())
    remaining = set(JobRun.objects.filter(job__in=["nightly", "minutely"]).values_list("pk", flat=True))
    assert remaining == {last_ok.pk, last_failed.pk, recent.pk}
    assert not {run.pk for run in older} & remaining and stale.pk not in remaining


@pytest.mark.django_db
def test_clearsessions_deletes_only_expired_sessions():
    now = timezone.now()
    MemberSession.objects.create(session_key="a" * 32, session_data="", expire_date=now - timedelta(seconds=1))
    MemberSession.objects.create(session_key="b" * 32, session_data="", expire_date=now + timedelta(hours=1))
    out = StringIO()
    call_command("clearsessions", stdout=out)
    assert list(MemberSession.objects.values_list("session_key", flat=True)) == ["b" * 32]
    assert "deleted 1 expired sessions" in out.getvalue()
    assert JobRun.objects.get(job="clearsessions").counters == {"deleted": 1}


@pytest.mark.django_db
def test_an_error_with_nul_bytes_is_still_recorded():
    """A run whose error quoted a binary file's bytes was lost (PostgreSQL refuses NUL in text) and showed dead."""
    from ask.jobs.services import job_run_finish
    run = JobRunFactory(status="running")
    job_run_finish(run=run, status="failed", counters={}, error="line 1: 'a\x00b'", summary="x\x00")
    run.refresh_from_db()
    assert (run.status, run.error, run.summary) == ("failed", "line 1: 'a\\x00b'", "x\\x00")


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_run_lock_cannot_be_taken_is_recorded_failed_not_left_running(monkeypatch):
    """The record was made, then the lock connection failed: the run stayed `running` and showed dead."""
    from django.db import OperationalError

    from ask.jobs import locks

    real = locks.open_locks

    def failing_locks():
        opened = real()

        def broken(run_id: int) -> None:
            raise OperationalError("server closed the connection unexpectedly")

        opened.hold_run_lock = broken
        return opened

    monkeypatch.setattr("ask.jobs.runner.open_locks", failing_locks)
    with pytest.raises(SystemExit) as exited:
        from django.core.management import ManagementUtility
        ManagementUtility(["manage.py", "sample_job", "--rows", "1"]).execute()
    assert exited.value.code == 75
    run = JobRun.objects.get(job="sample_job")
    assert run.status == "failed" and run.error.startswith("database unreachable: server closed the connection")
