"""One run per scheduled slot across hosts whose clocks differ (libfaketime), and runs by hand never
slot-skipped."""
import json
import shutil
from datetime import datetime

import pytest

from ask.jobs.models import JobRun
from tests.support import ROOT, manage, process_env

pytestmark = pytest.mark.django_db(transaction=True)


def scheduled_now_env(var_dir, host: str, **extra: str) -> dict:
    """A child process as cron starts it on `host`, with sample_job scheduled daily at this minute, so
    its latest schedule time is the same for clocks seconds apart."""
    now = datetime.now().astimezone()
    schedule = f"{now.minute} {now.hour} * * *"
    return process_env(var_dir, ASK_HOSTNAME=host, ASK_JOB_SCHEDULED="1",
                       TEST_EXTRA_CRONJOBS=json.dumps([[schedule, "ask.jobs.cron.run", ["sample_job"]]]), **extra)


def with_clock_ahead(seconds: int, *argv: str) -> list[str]:
    return [shutil.which("faketime"), "-f", f"+{seconds}s", *argv]


def test_two_hosts_with_clocks_20_s_apart_make_one_run_of_a_slot_and_the_second_says_who_ran_it(var_dir):
    # web2's clock is 20 s ahead, so its cron fires first; web1's fires when web2's run is over.
    ahead = manage("sample_job", "-v1", env=scheduled_now_env(var_dir, "web2"), wrapper=with_clock_ahead(20))
    behind = manage("sample_job", "-v1", env=scheduled_now_env(var_dir, "web1"))

    assert ahead.returncode == 0 and behind.returncode == 0, (ahead.stderr, behind.stderr)
    runs = {run.host: run for run in JobRun.objects.all()}
    assert runs["web2"].status == "ok" and runs["web1"].status == "skipped"
    assert runs["web1"].slot == runs["web2"].slot is not None
    label = f"{runs['web2'].slot.astimezone():%H:%M}"
    assert f"sample_job: already ran for {label} on web2; skipped." in behind.stdout
    assert (runs["web2"].started_at - runs["web1"].started_at).total_seconds() > 10, "the clocks really differed"


def test_a_run_by_hand_is_never_slot_skipped(var_dir):
    scheduled = manage("sample_job", env=scheduled_now_env(var_dir, "web1"))
    by_hand = manage("sample_job", "-v1", env=process_env(var_dir, ASK_HOSTNAME="web1"))
    assert scheduled.returncode == 0 and by_hand.returncode == 0
    assert "skipped" not in by_hand.stdout
    assert sorted(JobRun.objects.values_list("status", flat=True)) == ["ok", "ok"]
    assert JobRun.objects.filter(slot__isnull=True).count() == 1


def test_jobs_on_every_host_claim_no_slot(var_dir):
    for host in ("web1", "web2"):
        result = manage("process_orders", env=scheduled_now_env(var_dir, host))
        assert result.returncode == 0, result.stderr
    assert list(JobRun.objects.values_list("status", "slot")) == [("ok", None), ("ok", None)]


def test_crontab_txt_lines_claim_slots_and_the_same_wrapper_by_hand_does_not(var_dir):
    env = scheduled_now_env(var_dir, "web1", ASK_ENV_FILE=str(var_dir / "no.env"))
    del env["ASK_JOB_SCHEDULED"]
    cron_job = [str(ROOT / "scripts" / "cron-job")]
    header = next(line for line in (ROOT / "crontab.txt").read_text().splitlines()
                  if line.startswith("ASK_JOB_SCHEDULED="))
    as_cron = {**env, header.split("=")[0]: header.split("=", 1)[1]}
    runs = [manage("sample_job", env=as_cron, wrapper=cron_job, python=False) for _ in range(2)]
    by_hand = manage("sample_job", env=env, wrapper=cron_job, python=False)  # e.g. scripts/backup.sh at 14:00
    assert [run.returncode for run in (*runs, by_hand)] == [0, 0, 0]
    assert list(JobRun.objects.order_by("id").values_list("status", flat=True)) == ["ok", "skipped", "ok"]


def test_a_slot_the_scheduler_wrote_wrong_is_refused_in_one_line_with_nothing_done(var_dir):
    for wrong in ("garbage", "2026-12-03T10:03:00"):  # not a time; no UTC offset
        result = manage("sample_job", env=process_env(var_dir, ASK_JOB_SLOT=wrong))
        assert result.returncode == 2 and result.stderr.strip() == (
            f"sample_job: ASK_JOB_SLOT={wrong!r} is not a date and time with its UTC offset (ISO 8601, as the "
            "scheduler writes it); nothing done")
    assert not JobRun.objects.exists()
