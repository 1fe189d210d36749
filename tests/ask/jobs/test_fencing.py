"""Fencing (issue: jobs under faults): a run whose advisory lock is lost stops and writes nothing more."""
import time

import pytest
from django.db import connection

from ask.jobs.locks import job_lock_key
from ask.jobs.models import JobRun
from tests.jobapp.models import SampleRow
from tests.support import process_env, start_manage, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def terminate_job_lock_holder(job: str) -> int:
    """What a PostgreSQL restart, a fail-over or idle_session_timeout does to the lock's session."""
    key = job_lock_key(job)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
            " AND classid = %s::bigint::oid AND objid = %s::bigint::oid",
            [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF])
        return len(cursor.fetchall())


@pytest.mark.parametrize("writes", [[], ["--autocommit"]], ids=["in-transactions", "autocommit"])
def test_a_run_that_lost_its_lock_writes_nothing_more_fails_in_one_line_and_the_next_run_works(var_dir, writes):
    env = process_env(var_dir)
    first = start_manage("sample_job", "--rows", "20", "--batch-size", "1", "--sleep", "15", "--write", *writes,
                         env=env)
    wait_for(lambda: SampleRow.objects.filter(pid=first.pid).count() >= 2, 30, what="the first run writing")
    assert terminate_job_lock_holder("sample_job") == 1
    written_before_the_loss = SampleRow.objects.filter(pid=first.pid).count()
    second = start_manage("sample_job", "--rows", "5", "--write", env=env)
    out2, err2 = second.communicate(timeout=60)
    out1, err1 = first.communicate(timeout=60)

    assert second.returncode == 0 and "already running" not in out2, err2
    assert SampleRow.objects.filter(pid=second.pid).count() == 5, "the second run did the work"
    assert SampleRow.objects.filter(pid=first.pid).count() == written_before_the_loss, "nothing after the loss"
    assert first.returncode == 1
    assert len(err1.strip().splitlines()) == 1 and "lost its lock" in err1 and "Traceback" not in err1, err1
    runs = dict(JobRun.objects.exclude(status="skipped").values_list("pid", "status"))
    assert runs == {first.pid: "failed", second.pid: "ok"}
    assert "lost its lock" in JobRun.objects.get(pid=first.pid).error


@pytest.mark.parametrize("sleeping", [[], ["--sql-sleep"]], ids=["in-python", "in-a-long-statement"])
def test_a_run_that_lost_its_lock_stops_within_seconds_even_while_it_writes_nothing(var_dir, sleeping):
    env = process_env(var_dir, JOBS_LOCK_CHECK_SECONDS="0.5")
    started = time.monotonic()
    first = start_manage("sample_job", "--rows", "1", "--batch-size", "1", "--sleep", "60", *sleeping, env=env)
    wait_for(lambda: JobRun.objects.filter(pid=first.pid, status="running").exists(), 30, what="the run")
    time.sleep(0.5)
    terminate_job_lock_holder("sample_job")
    killed = time.monotonic()
    _, err = first.communicate(timeout=30)
    assert first.returncode == 1 and "lost its lock" in err
    assert time.monotonic() - killed < 5, "stopped within a few seconds, not at the end of its 60 s"
    assert time.monotonic() - started < 40
    assert JobRun.objects.get(pid=first.pid).status == "failed"


def test_a_run_that_keeps_its_lock_is_not_disturbed_by_the_fence(var_dir):
    env = process_env(var_dir, JOBS_LOCK_CHECK_SECONDS="0.2")
    proc = start_manage("sample_job", "--rows", "6", "--batch-size", "1", "--sleep", "1.5", "--write", env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert SampleRow.objects.filter(pid=proc.pid).count() == 6
    assert JobRun.objects.get(pid=proc.pid).status == "ok"
