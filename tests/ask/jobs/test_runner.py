"""The job framework as cron and admins meet it: locking, run records, output, exit codes."""
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import termios
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ask.jobs.models import JobRun
from ask.jobs.runner import JobFailed
from ask.jobs.selectors import with_liveness
from tests.jobapp.models import SampleRow
from tests.support import PYTHON, ROOT, manage, process_env, start_manage, wait_for


def run_job(*args, verbosity=1):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("sample_job", *args, verbosity=verbosity, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_successful_run_is_recorded_with_counters_and_prints_one_summary_line():
    out, err = run_job("--rows", "25")
    run = JobRun.objects.get()
    assert run.status == "ok" and run.finished_at is not None
    assert run.counters == {"passes": 1, "rows": 25}
    assert run.pid == os.getpid() and run.host
    assert run.arguments["rows"] == 25 and run.arguments["batch_size"] == 10
    assert out.count("\n") == 1 and out.startswith("sample_job: 1 passes, 25 rows in ")
    assert err == ""


@pytest.mark.django_db
def test_verbosity_0_is_silent_2_reports_batches_and_3_objects():
    assert run_job("--rows", "25", verbosity=0) == ("", "")
    out2, _ = run_job("--rows", "25", verbosity=2)
    assert out2.count("batch of") == 3 and "row 3" not in out2
    out3, _ = run_job("--rows", "25", verbosity=3)
    assert "row 24" in out3


@pytest.mark.django_db
def test_dry_run_is_recorded_and_said():
    out, _ = run_job("--dry-run")
    assert "(dry run, nothing changed)" in out
    assert JobRun.objects.get().dry_run is True


@pytest.mark.django_db
def test_a_failing_job_raises_records_failed_with_traceback_and_prints_one_line():
    with pytest.raises(JobFailed) as raised:
        run_job("--fail")
    run = JobRun.objects.get()
    assert run.status == "failed"
    assert run.error.startswith("RuntimeError: sample failure")
    assert "Traceback" in run.error
    assert f"run {run.pk}" in str(raised.value) and raised.value.exit_code == 1


@pytest.mark.django_db
def test_an_operator_error_is_a_command_error_and_recorded_without_traceback():
    with pytest.raises(CommandError, match="line 3, field 'x'"):
        run_job("--refuse")
    run = JobRun.objects.get()
    assert run.status == "failed" and "Traceback" not in run.error


@pytest.mark.django_db
def test_bad_options_are_refused_before_anything_runs():
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("sample_job", "--batch-size", "0")
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_loop_mode_repeats_passes_and_stops_before_max_seconds():
    started = time.monotonic()
    run_job("--loop", "--max-seconds", "1", "--interval", "0.2", "--rows", "1")
    elapsed = time.monotonic() - started
    passes = JobRun.objects.get().counters["passes"]
    assert 3 <= passes <= 6, passes
    assert elapsed < 1.5


# --- in real processes ----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_processes_at_once_one_works_the_other_is_recorded_skipped(var_dir):
    env = process_env(var_dir, ASK_JOB_SCHEDULED="1", ASK_HOSTNAME="web1")  # as cron starts them
    marker = var_dir / "worked.txt"
    procs = [start_manage("sample_job", "--sleep", "3", "--touch", str(marker), env=env) for _ in range(2)]
    results = [proc.communicate(timeout=60) + (proc.returncode,) for proc in procs]
    assert [code for _, _, code in results] == [0, 0]
    assert marker.read_text() == "worked\n", "exactly one process did the work"
    assert sorted(JobRun.objects.values_list("status", flat=True)) == ["ok", "skipped"]
    holder = JobRun.objects.get(status="ok")
    said = f"sample_job: already running on web1 (pid {holder.pid}, run {holder.pk}, since "
    assert sum(said in out for out, _, _ in results) == 1


@pytest.mark.django_db(transaction=True)
def test_a_run_by_hand_that_finds_the_job_running_says_who_holds_it_and_exits_75(var_dir):
    env = process_env(var_dir, ASK_HOSTNAME="web1")
    holder = start_manage("sample_job", "--sleep", "5", env=env)
    run = wait_for(lambda: JobRun.objects.filter(status="running").first(), 20, what="the first run")
    second = manage("sample_job", "-v0", env=env)
    holder.communicate(timeout=30)
    assert second.returncode == 75 and second.stdout == ""
    assert second.stderr.startswith(f"sample_job: already running on web1 (pid {run.pid}, run {run.pk}, since ")
    assert second.stderr.strip().endswith("; skipped.") and len(second.stderr.strip().splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_jobs_lock_per_site_so_a_second_site_on_the_same_database_is_not_blocked(var_dir):
    holder = start_manage("sample_job", "--sleep", "3", env=process_env(var_dir))
    wait_for(lambda: JobRun.objects.filter(status="running").exists(), 20, what="first run")
    other_site = manage("sample_job", env=process_env(var_dir, ASK_SITE_NAME="staging"))
    assert other_site.returncode == 0 and "skipped" not in other_site.stdout
    holder.communicate(timeout=30)
    assert sorted(JobRun.objects.values_list("status", flat=True)) == ["ok", "ok"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_exits_1_with_one_stderr_line_and_the_traceback_in_the_log(var_dir):
    result = manage("sample_job", "--fail", env=process_env(var_dir))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sample_job failed: RuntimeError: sample failure (run ")
    log = (var_dir / "log.txt").read_text()
    assert "ERROR ask.jobs: sample_job run" in log and "Traceback" in log
    assert JobRun.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_log_format_json_writes_one_parsable_object_a_line_naming_the_job_and_its_run(var_dir):
    result = manage("sample_job", "--fail", "--verbosity", "2", env=process_env(var_dir, LOG_FORMAT="json"))
    assert result.returncode == 1
    run = JobRun.objects.get()
    lines = [json.loads(line) for line in (var_dir / "log.txt").read_text().splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert [(line["job"], line["run"]) for line in lines] == [("sample_job", run.pk)] * len(lines), \
        "every line the run writes names it, its start included"
    assert "started on" in lines[0]["message"]
    failure = next(line for line in lines if line["level"] == "ERROR")
    assert "RuntimeError: sample failure" in failure["exc_info"]
    assert manage("check", env=process_env(var_dir, LOG_FORMAT="yaml")).returncode == 1
    assert "LOG_FORMAT='yaml' is not one of: line, json." in manage(
        "check", env=process_env(var_dir, LOG_FORMAT="yaml")).stderr


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_under_django_crontab_still_exits_non_zero(var_dir):
    entry = ["* * * * *", "ask.jobs.cron.run", ["sample_job", "--fail"]]
    env = process_env(var_dir, TEST_EXTRA_CRONJOBS=json.dumps([entry]))
    import hashlib

    job_hash = hashlib.md5(json.JSONEncoder(sort_keys=True).encode(entry).encode()).hexdigest()
    result = manage("crontab", "run", job_hash, env=env)
    assert result.returncode == 1
    assert "sample_job failed: RuntimeError: sample failure" in result.stderr
    assert result.stdout == "", "cron runs are quiet: --verbosity 0"
    assert JobRun.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_with_kill_9_stays_running_is_shown_dead_and_frees_the_lock(var_dir):
    env = process_env(var_dir)
    proc = start_manage("sample_job", "--sleep", "30", env=env)
    run = wait_for(lambda: JobRun.objects.filter(status="running").first(), 20, what="the run to start")
    assert with_liveness([run])[run.pk] == "running"
    proc.kill()
    proc.wait()
    run.refresh_from_db()
    assert run.status == "running", "a killed run must never look successful"
    wait_for(lambda: with_liveness([run])[run.pk] == "dead", 10, what="the run to show as dead")
    assert "dead" in manage("jobs", "sample_job", env=env).stdout
    assert manage("sample_job", env=env).returncode == 0
    assert JobRun.objects.filter(status="ok").count() == 1, "the lock died with the process"


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_that_leaves_a_transaction_open_still_records_the_run_and_rolls_that_transaction_back(var_dir):
    result = manage("sample_job", "--interrupted-in-atomic", env=process_env(var_dir))
    assert result.returncode == 130, result.stderr
    run = JobRun.objects.get()
    assert (run.status, run.error) == ("failed", "interrupted (Ctrl-C)"), (var_dir / "log.txt").read_text()
    assert list(SampleRow.objects.values_list("row", flat=True)) == [-1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["--interrupted-after-commit", "--interrupted-while-beginning"])
def test_ctrl_c_where_the_driver_is_left_without_autocommit_still_records_the_run(var_dir, where):
    """import_data's flaky Ctrl-C test: the record's UPDATE went into a transaction nobody committed,
    whether Django's flags knew autocommit was off (after a commit) or not (inside set_autocommit)."""
    result = manage("sample_job", where, env=process_env(var_dir))
    assert result.returncode == 130, result.stderr
    run = JobRun.objects.get()
    assert (run.status, run.error) == ("failed", "interrupted (Ctrl-C)"), (var_dir / "log.txt").read_text()
    assert list(SampleRow.objects.values_list("row", flat=True)) == [-1]


@pytest.mark.django_db(transaction=True)
def test_sigterm_records_the_run_failed_and_exits_143(var_dir):
    proc = start_manage("sample_job", "--sleep", "30", env=process_env(var_dir))
    wait_for(lambda: JobRun.objects.filter(status="running").exists(), 20, what="the run to start")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143
    assert "terminated by SIGTERM" in err
    assert JobRun.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_file_locks_keep_runs_apart(var_dir):
    env = process_env(var_dir, DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}")
    assert manage("migrate", "--verbosity", "0", env=env).returncode == 0
    procs = [start_manage("sample_job", "--sleep", "3", env=env) for _ in range(2)]
    errs = [proc.communicate(timeout=60)[1] for proc in procs]
    assert sum("skipped" in err for err in errs) == 1
    assert sorted(proc.returncode for proc in procs) == [0, 75], "by hand, a skipped run says so"
    overview = manage("jobs", "sample_job", env=env).stdout
    assert "ok" in overview and "skipped" in overview


def _run_on_a_terminal(args: list[str], env: dict) -> str:
    """Run with stderr on a pseudo-terminal, as when an admin types the command; returns stderr."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100x24 terminal
    proc = subprocess.Popen([PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(30)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.django_db(transaction=True)
def test_a_progress_bar_shows_on_a_terminal_and_never_under_cron(var_dir):
    env = process_env(var_dir)
    on_tty = _run_on_a_terminal(["sample_job", "--rows", "50"], env)
    assert "5/5" in on_tty and "batches" in on_tty
    piped = manage("sample_job", "--rows", "50", env=env)
    assert piped.stderr == ""
    assert _run_on_a_terminal(["sample_job", "--rows", "50", "--verbosity", "0"], env) == ""


@pytest.mark.django_db(transaction=True)
def test_a_bugs_traceback_reads_as_python_prints_it_at_a_terminal_and_stays_one_line_in_a_pipe(var_dir):
    env = process_env(var_dir, LOG_FILE=None)  # the log on stderr, as by hand without LOG_FILE
    on_tty = _run_on_a_terminal(["sample_job", "--fail"], env).replace("\r\n", "\n")
    assert "\nTraceback (most recent call last):\n  File " in on_tty and "\\n" not in on_tty
    assert on_tty.rstrip().splitlines()[-1].startswith("sample_job failed: RuntimeError: sample failure (run ")
    piped = manage("sample_job", "--fail", env=env)
    logged, failed = piped.stderr.strip().splitlines()
    assert "ERROR ask.jobs: sample_job run" in logged and "\\nTraceback (most recent call last):\\n" in logged
    assert failed.startswith("sample_job failed: RuntimeError: sample failure")


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_a_loop_job_cleanly_after_its_current_pass(var_dir):
    proc = start_manage("sample_job", "--loop", "--max-seconds", "30", "--interval", "0.2", "--rows", "1",
                        env=process_env(var_dir))
    wait_for(lambda: JobRun.objects.filter(status="running").exists(), 20, what="the run to start")
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0
    run = JobRun.objects.get()
    assert run.status == "ok" and run.counters["stopped by SIGTERM"] == 1 and run.counters["passes"] >= 1


@pytest.mark.django_db
def test_back_to_back_runs_of_a_job_never_find_their_own_lock_still_taken():
    for _ in range(30):
        run_job("--rows", "1", verbosity=0)
    assert set(JobRun.objects.values_list("status", flat=True)) == {"ok"} and JobRun.objects.count() == 30
