"""Missed slots (no host ran them) made up once or shown as missed, runs past their bound shown
OVERDUE, and a job's check of its own counters, all through real processes and clocks."""
import json
import shutil
import time
from datetime import datetime, timedelta

import pytest

from ask.jobs.models import JobRun
from ask.jobs.slots import slot_label
from ask.qa.models import SidebarSnapshot
from tests.factories import QuestionFactory, TagFactory
from tests.ask.core.test_health import MONITOR
from tests.support import manage, process_env, start_manage, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def missed_ten_minutes_ago(var_dir, catch_up: str) -> tuple[dict, datetime]:
    """sample_job scheduled daily 10 minutes ago (past its 5-minute window), which ran yesterday and
    not today: every host was down at that time."""
    slot = (datetime.now().astimezone() - timedelta(minutes=10)).replace(second=0, microsecond=0)
    JobRun.objects.create(job="sample_job", host="web1", pid=1, started_at=slot - timedelta(days=1),
                          finished_at=slot - timedelta(days=1), status="ok", slot=slot - timedelta(days=1))
    env = process_env(var_dir, SAMPLE_JOB_CATCH_UP=catch_up, ASK_ENV_FILE=str(var_dir / "none.env"),
                      TEST_EXTRA_CRONJOBS=json.dumps([[f"{slot.minute} {slot.hour} * * *", "ask.jobs.cron.run",
                                                       ["sample_job"]]]))
    return env, slot


def test_a_missed_slot_of_a_catch_up_once_job_is_made_up_once_and_recorded_as_a_catch_up(var_dir):
    env, slot = missed_ten_minutes_ago(var_dir, "once")
    before = manage("jobs", env=env)
    assert f"MISSED {slot_label(slot)}" in before.stdout

    first = manage("catch_up_jobs", "-v1", env=env)  # waits for the catch-up run's output too
    assert first.returncode == 0, first.stderr
    assert f"sample_job: making up the {slot_label(slot)} run" in first.stdout
    [made_up] = JobRun.objects.filter(job="sample_job", slot=slot).exclude(status="missed")
    assert made_up.catch_up and made_up.status == "ok"

    again = manage("catch_up_jobs", "-v1", env=env)
    assert again.returncode == 0 and "making up" not in again.stdout
    assert JobRun.objects.filter(job="sample_job", slot=slot, catch_up=True).count() == 1, "made up once"
    row = next(line for line in manage("jobs", env=env).stdout.splitlines() if line.startswith("sample_job"))
    assert "MISSED" not in row and " ok " in row
    assert "sample_job" not in manage("jobs", "--check", env=env).stderr  # (the others never ran: STALE)
    assert "ok (catch-up)" in manage("jobs", "sample_job", env=env).stdout


def test_a_missed_slot_of_a_skip_job_is_recorded_and_shown_until_a_later_run(var_dir):
    env, slot = missed_ten_minutes_ago(var_dir, "skip")
    result = manage("catch_up_jobs", "-v1", env=env)
    assert result.returncode == 0 and f"sample_job: missed its {slot_label(slot)} run" in result.stdout
    assert list(JobRun.objects.filter(job="sample_job", slot=slot).values_list("status", flat=True)) == ["missed"]
    assert not JobRun.objects.filter(job="sample_job", catch_up=True).exists()

    overview = manage("jobs", env=env)
    assert f"MISSED {slot_label(slot)}" in overview.stdout
    check = manage("jobs", "--check", env=env)
    assert check.returncode == 1 and f"sample_job: missed its {slot_label(slot)} run" in check.stderr
    assert manage("catch_up_jobs", env=env).returncode == 0
    assert JobRun.objects.filter(job="sample_job", status="missed").count() == 1, "recorded once"


def test_healthz_names_a_missed_slot(var_dir, client, settings):
    env, slot = missed_ten_minutes_ago(var_dir, "skip")
    settings.CRONJOBS = [tuple(entry) for entry in json.loads(env["TEST_EXTRA_CRONJOBS"])]
    checks = client.get("/healthz", **MONITOR).json()["checks"]["jobs"]
    assert not checks["ok"] and f"missed its {slot_label(slot)} run" in checks["data"]["problems"]["sample_job"]


def test_a_run_past_its_expected_duration_shows_overdue_before_its_timeout(var_dir):
    env = process_env(var_dir, SAMPLE_JOB_EXPECTED_SECONDS="1", TEST_EXTRA_CRONJOBS=json.dumps(
        [["*/10 * * * *", "ask.jobs.cron.run", ["sample_job"]]]))
    proc = start_manage("sample_job", "--rows", "1", "--sleep", "30", env=env)
    try:
        wait_for(lambda: JobRun.objects.filter(pid=proc.pid).exists(), 30, what="the run")
        time.sleep(1.5)
        overview = manage("jobs", env=env)
        row = next(line for line in overview.stdout.splitlines() if line.startswith("sample_job"))
        assert "RUNNING" in row and "OVERDUE" in row
        check = manage("jobs", "--check", env=env)
        assert check.returncode == 1 and "overdue" in check.stderr and "longer than its 1s" in check.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_calc_sidebar_on_a_host_whose_clock_is_months_ahead_fails_its_check_and_keeps_the_sidebar(var_dir):
    QuestionFactory(tags=[TagFactory(name="python")])
    env = process_env(var_dir)
    assert manage("calc_sidebar", env=env).returncode == 0
    kept = SidebarSnapshot.objects.get().tags
    assert kept[0]["name"] == "python"

    skewed = manage("calc_sidebar", env=env, wrapper=[shutil.which("faketime"), "-f", "+200d"])
    assert skewed.returncode == 1
    [line] = skewed.stderr.strip().splitlines()
    assert line.startswith("calc_sidebar failed: check failed: found no popular tags, yet tagged questions"), line
    assert SidebarSnapshot.objects.get().tags == kept, "an empty sidebar was not written"
    assert JobRun.objects.filter(job="calc_sidebar").latest("id").status == "failed"


def test_only_slots_after_a_jobs_first_slot_and_without_a_record_are_missed(settings):
    from ask.jobs.missed import missed_slots

    settings.CRONJOBS = [("* * * * *", "ask.jobs.cron.run", ["sample_job"])]
    now = datetime.now().astimezone().replace(second=30, microsecond=0)
    slots = [now.replace(second=0) - timedelta(minutes=n) for n in range(1, 7)]  # past their 1-minute window
    for slot in slots:
        if slot != slots[2]:
            JobRun.objects.create(job="sample_job", host="web1", pid=1, started_at=slot, finished_at=slot,
                                  status="skipped" if slot == slots[1] else "ok", slot=slot)
    missed = missed_slots(now)["sample_job"]
    assert missed.unrecorded == [slots[2]], "a skipped run covers its slot; nothing before the first slot"
    assert missed.current == [], "later slots ran since"
