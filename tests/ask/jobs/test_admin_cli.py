"""Admins at the command line and in cron's mail (issue: every command honest, quiet when fine): each
case run as cron or an admin runs it, checking stdout, stderr, the exit status and the run record."""
import hashlib
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from ask.jobs.models import JobRun
from tests.support import ROOT, manage, process_env

pytestmark = pytest.mark.django_db(transaction=True)


def crontab_run(var_dir, argv: list[str], **env: str):
    """`manage.py crontab run HASH` as a line installed by `manage.py crontab add` runs it."""
    entry = ["* * * * *", "ask.jobs.cron.run", argv]
    job_hash = hashlib.md5(json.JSONEncoder(sort_keys=True).encode(entry).encode()).hexdigest()
    return manage("crontab", "run", job_hash, env=process_env(var_dir, TEST_EXTRA_CRONJOBS=json.dumps([entry]), **env))


def test_an_operator_error_under_django_crontab_is_one_line_and_exit_1_not_silence(var_dir):
    refused = crontab_run(var_dir, ["sample_job", "--refuse"])
    assert refused.returncode == 1
    assert refused.stderr.strip() == "sample_job: sample input is bad: line 3, field 'x'"
    no_backup = crontab_run(var_dir, ["verify_backup"], BACKUP_DIR=str(var_dir / "none"))
    assert no_backup.returncode == 1 and no_backup.stderr.startswith("verify_backup: No backup of ")


def test_a_refused_option_under_django_crontab_exits_2(var_dir):
    result = crontab_run(var_dir, ["sample_job", "--rows", "many"])
    assert result.returncode == 2 and "--rows" in result.stderr


def test_an_idle_mail_loop_is_silent_on_stderr_and_in_the_log(var_dir):
    result = manage("send_queued_mail", "--loop", "--max-seconds", "3", "--interval", "1", "-v0",
                    env=process_env(var_dir))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    log = var_dir / "log.txt"
    assert "Started sending" not in (log.read_text() if log.exists() else "")


def test_a_dry_run_is_not_a_success(var_dir, settings):
    settings.CRONJOBS = [("30 2 * * *", "ask.jobs.cron.run", ["sample_job"])]
    env = process_env(var_dir, TEST_EXTRA_CRONJOBS=json.dumps([list(settings.CRONJOBS[0])]))
    assert manage("sample_job", "--fail", env=env).returncode == 1
    assert manage("sample_job", "--dry-run", env=env).returncode == 0
    row = next(line for line in manage("jobs", env=env).stdout.splitlines() if line.startswith("sample_job"))
    assert "FAILED" in row
    check = manage("jobs", "--check", env=env)
    assert check.returncode == 1 and "sample_job: last run failed" in check.stderr


def test_jobs_that_never_ran_on_a_site_installed_long_ago_need_attention(var_dir):
    env = process_env(var_dir)
    assert not JobRun.objects.exists()
    MigrationRecorder.Migration.objects.filter(app="jobs").update(applied=timezone.now() - timedelta(days=30))
    check = manage("jobs", "--check", env=env)
    assert check.returncode == 1
    assert "calc_sidebar: stale: no success within 3 intervals (last never)" in check.stderr


def test_a_job_over_its_time_limit_exits_143_and_is_recorded_timed_out(var_dir):
    env = process_env(var_dir, ASK_JOB_TIMEOUT="2s", ASK_ENV_FILE=str(var_dir / "none.env"))
    result = manage("sample_job", "--sleep", "20", env=env, wrapper=[str(ROOT / "scripts" / "cron-job")],
                    python=False)
    assert result.returncode == 143
    run = JobRun.objects.get()
    assert run.status == "failed" and run.error.startswith("timed out after 2s (its limit; ASK_JOB_TIMEOUT")
    assert run.duration_seconds < 10
    bad = manage("sample_job", env=process_env(var_dir, ASK_JOB_TIMEOUT="3 hours"))
    assert bad.returncode == 2 and "ASK_JOB_TIMEOUT='3 hours' is not a duration" in bad.stderr


def test_under_django_crontab_a_job_keeps_its_own_time_limit_not_the_wrappers(var_dir):
    """`manage.py crontab add` lines run `scripts/cron-job --python manage.py crontab run HASH`: the
    wrapper cannot tell the job, so the run keeps the limit its job declares (here 3 s)."""
    entry = ["* * * * *", "ask.jobs.cron.run", ["sample_job", "--sleep", "30"]]
    job_hash = hashlib.md5(json.JSONEncoder(sort_keys=True).encode(entry).encode()).hexdigest()
    env = process_env(var_dir, TEST_EXTRA_CRONJOBS=json.dumps([entry]), ASK_JOB_SCHEDULED="1", SAMPLE_JOB_TIMEOUT="3",
                      ASK_ENV_FILE=str(var_dir / "none.env"))
    result = manage(str(ROOT / "scripts" / "cron-job"), "--python", str(ROOT / "manage.py"), "crontab", "run",
                    job_hash, env=env, python=False, timeout=60)
    assert result.returncode == 143, result.stderr
    run = JobRun.objects.get()
    assert run.error.startswith("timed out after 3s") and run.duration_seconds < 10
    assert "sample_job failed: timed out after 3s" in result.stderr


def test_a_bad_option_value_is_refused_with_exit_2_before_any_run_is_recorded(var_dir):
    for bad in ("2099-01-01", "yesterday"):
        result = manage("calc_stats", "--since", bad, env=process_env(var_dir))
        assert result.returncode == 2 and "--since" in result.stderr and bad in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not JobRun.objects.exists(), "nothing recorded: the schedule does not look broken"


def test_every_run_start_and_end_is_in_the_job_log_and_the_failure_names_job_and_run(var_dir):
    env = process_env(var_dir)
    assert manage("sample_job", "-v0", env=env).returncode == 0
    failed = manage("sample_job", "--refuse", "-v0", env=env)
    assert failed.returncode == 1
    ok_run, bad_run = JobRun.objects.order_by("id")
    log = (var_dir / "log.txt").read_text()
    assert f"INFO ask.jobs: sample_job run {ok_run.pk} started on " in log
    assert f"INFO ask.jobs: sample_job run {ok_run.pk} ok: 1 passes, 30 rows in " in log
    assert f"ERROR ask.jobs: sample_job run {bad_run.pk} failed in " in log and "sample input is bad" in log


def test_jobs_for_one_job_honours_check_and_refuses_a_bad_limit(var_dir, settings):
    entry = ["*/10 * * * *", "ask.jobs.cron.run", ["sample_job"]]
    env = process_env(var_dir, TEST_EXTRA_CRONJOBS=json.dumps([entry]))
    manage("sample_job", "--fail", env=env)
    one = manage("jobs", "sample_job", "--check", env=env)
    assert one.returncode == 1 and "sample_job: last run failed" in one.stderr and "RuntimeError" in one.stdout
    for bad in ("-1", "0"):
        refused = manage("jobs", "sample_job", "--limit", bad, env=env)
        assert refused.returncode == 2 and "--limit" in refused.stderr and "Traceback" not in refused.stderr


def test_jobs_as_json_for_a_monitor_and_the_site_schedule_in_100_columns(var_dir, tmp_path):
    env = process_env(var_dir)
    manage("import_data", "tags", str(tmp_path / "missing.csv"), env=env)
    manage("calc_sidebar", env=env)
    table = manage("jobs", env=env)
    schedule, by_hand_table, notes = table.stdout.split("\n\n")
    assert notes.startswith("backups: "), "the backups' state last"
    assert table.returncode == 0 and all(len(line) <= 100 for line in schedule.splitlines()), table.stdout
    assert by_hand_table.splitlines()[1].endswith(f"{tmp_path / 'missing.csv'}: no such file."), "never cut"
    assert "process_orders  " in table.stdout, "the command's name, its arguments in --json"
    JobRun.objects.create(job="calc_stats", host="web2", pid=7, started_at=timezone.now(), status="failed",
                          error="RuntimeError: boom\nTraceback …", finished_at=timezone.now())
    as_json = manage("jobs", "--json", "--check", env=env)
    assert as_json.returncode == 1, "--check still sets the exit status"
    assert as_json.stderr.splitlines()[0].startswith("calc_stats: last run failed at ")
    data = json.loads(as_json.stdout)
    stats = next(job for job in data["jobs"] if job["job"] == "calc_stats")
    assert stats["problem"].endswith(": RuntimeError: boom") and stats["last_run"]["error"] == "RuntimeError: boom"
    sidebar = next(job for job in data["jobs"] if job["job"] == "calc_sidebar")
    assert sidebar["status"] == "ok" and sidebar["last_run"]["status"] == "ok" and sidebar["problem"] == ""
    assert sidebar["next_at"] > sidebar["last_success_at"]
    orders = next(job for job in data["jobs"] if job["job"] == "process_orders")
    assert orders["arguments"][0] == "--loop" and orders["last_run"] is None
    [by_hand] = data["by_hand"]
    assert by_hand["job"] == "import_data" and by_hand["status"] == "failed"
    assert by_hand["error"] == f"{tmp_path / 'missing.csv'}: no such file."
    run = json.loads(manage("jobs", "--run", str(by_hand["id"]), "--json", env=env).stdout)
    assert run["arguments"]["model"] == "tags" and run["counters"]["read"] == 0
    history = json.loads(manage("jobs", "import_data", "--json", env=env).stdout)
    assert [entry["id"] for entry in history] == [by_hand["id"]]


def test_pruning_keeps_the_latest_real_success_not_a_newer_dry_run():
    from ask.jobs.services import job_runs_prune

    long_ago = timezone.now() - timedelta(days=100)
    real = JobRun.objects.create(job="sample_job", host="web1", pid=1, started_at=long_ago, status="ok")
    JobRun.objects.create(job="sample_job", host="web1", pid=1, started_at=long_ago + timedelta(days=1),
                          status="ok", dry_run=True)
    assert job_runs_prune(older_than_days=90, dry_run=False) == 1
    assert list(JobRun.objects.values_list("pk", flat=True)) == [real.pk]


def test_backup_and_restore_exclude_each_other(var_dir):
    from ask.jobs.locks import open_locks

    restore = JobRun.objects.create(job="restore_db", host="web1", pid=4711, started_at=timezone.now())
    locks = open_locks()
    try:
        assert locks.try_job_lock("backup_db+base_backup+restore_db+verify_backup"), "the lock all four take"
        env = process_env(var_dir, BACKUP_DIR=str(var_dir / "backups"))
        backup = manage("backup_db", "-v0", env=env)
    finally:
        locks.close()
    assert backup.returncode == 75
    assert backup.stderr.startswith(f"backup_db: already running restore_db on web1 (pid 4711, run {restore.pk}, ")
    assert not (var_dir / "backups").exists() or not any((var_dir / "backups").iterdir()), "no backup taken"


def test_fill_db_clear_refuses_members_content_unless_yes_names_the_database_and_says_what_it_deleted(var_dir):
    from ask.qa.filling import FILL_EMAIL_DOMAIN
    from ask.qa.models import Question
    from tests.factories import AnswerFactory, QuestionFactory, UserFactory

    env = process_env(var_dir)
    assert manage("fill_db", "1", "--seed", "1", "-v0", env=env).returncode == 0
    member = UserFactory(email="ann@example.org")
    mine = QuestionFactory(author=member, title="A real member's question")
    AnswerFactory(question=Question.objects.filter(author__email__endswith=FILL_EMAIL_DOMAIN).first(), author=member)
    before = Question.objects.count()
    refused = manage("fill_db", "1", "--clear", env=env)
    assert refused.returncode == 1
    where = f"the PostgreSQL database {connection.settings_dict['NAME']} on "
    assert where in refused.stderr and "1 questions, 1 answers by members; nothing done" in refused.stderr
    assert "--yes" in refused.stderr and "Traceback" not in refused.stderr
    assert Question.objects.count() == before and Question.objects.filter(pk=mine.pk).exists()
    done = manage("fill_db", "1", "--clear", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert f"fill_db: PostgreSQL database {connection.settings_dict['NAME']} on " in done.stdout
    assert f"deleted 0 votes, 101 answers, {before} questions, 1 tags, 1 users, then wrote " in done.stdout
    assert not Question.objects.filter(pk=mine.pk).exists()


def test_warmcache_with_memcached_down_fails_in_one_line_instead_of_reporting_pages_warmed(var_dir):
    from tests.support import free_port

    dead = f"127.0.0.1:{free_port()}"
    result = manage("warmcache", env=process_env(var_dir, MEMCACHED_SERVERS=dead))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: memcached does not answer: {dead} (ConnectionRefusedError: [Errno 111] Connection refused); "
        "nothing warmed"]
    assert "warmed" not in result.stdout
    assert JobRun.objects.get(job="warmcache").status == "failed"


def test_warmcache_under_cron_on_a_new_host_prints_nothing(var_dir):
    """WhiteNoise warned "No directory at: var/static/" on stderr, which cron mails, before any collectstatic."""
    assert not (var_dir / "static").exists()
    result = manage("warmcache", "-v0", env=process_env(var_dir))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_stats_before_calc_stats_says_so_instead_of_rows_of_zeros(var_dir):
    env = process_env(var_dir)
    none = manage("stats", "--days", "3", env=env)
    assert none.returncode == 1 and none.stdout == ""
    first = timezone.localdate() - timedelta(days=2)
    assert none.stderr.strip().endswith(f"calc_stats has not computed them (cron runs it hourly). Compute them "
                                        f"now: manage.py calc_stats --since {first}")
    assert manage("calc_stats", env=env).returncode == 0  # yesterday and today
    table = manage("stats", "--days", "3", env=env).stdout.splitlines()
    assert table[1].split() == [str(first)] + ["-"] * 13, "not computed, not zero"
    assert table[3].split()[1:3] == ["0", "0"]
    assert table[4].startswith("-: not computed by calc_stats")


def test_post_offices_cleanup_mail_cannot_delete_mail_still_queued(var_dir):
    from post_office.models import STATUS, Email
    queued = Email.objects.create(to=["ada@example.com"], subject="Activate", status=STATUS.queued,
                                  from_email="site@example.com")
    Email.objects.filter(pk=queued.pk).update(created=timezone.now() - timedelta(days=2))
    result = manage("cleanup_mail", "--days", "0", env=process_env(var_dir))
    assert result.returncode == 2 and "Use manage.py prune_mail --days N" in result.stderr
    assert Email.objects.filter(pk=queued.pk).exists()
    pruned = manage("prune_mail", "--days", "1", "-v1", env=process_env(var_dir))
    assert pruned.returncode == 0 and "deleted 0 mails" in pruned.stdout and Email.objects.filter(pk=queued.pk).exists()


@pytest.mark.parametrize("argv", [["jobs"], ["jobs", "--check"], ["stats"], ["restaurant_token", "x"]])
def test_the_commands_that_are_not_jobs_say_a_database_down_in_one_line(var_dir, argv):
    from tests.support import free_port
    down = process_env(var_dir, DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/ask")
    result = manage(*argv, env=down)
    assert result.returncode == 75 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"CommandError: {argv[0]}: database unreachable: connection refused at " \
                                    f"127.0.0.1:{down['DATABASE_URL'].split(':')[2].split('/')[0]}"
