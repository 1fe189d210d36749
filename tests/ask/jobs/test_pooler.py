"""A real pgbouncer in transaction mode in front of PostgreSQL: pages work through it, and jobs still
exclude each other with their locks on a direct connection (JOBS_LOCK_DATABASE_URL), or refuse to run
when the locks would go through the pooler too."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.ask.core.test_health import MONITOR
from tests.factories import QuestionFactory
from tests.support import free_port, http_get, manage, process_env, start_manage, wait_for
from tests.support import test_database_url as direct_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pgbouncer(transactional_db):
    """pgbouncer in transaction mode on a free port, one server connection per database (so two
    clients share a server session, as they do on a busy pooler); yields its URL of the test database."""
    folder = Path(tempfile.mkdtemp(prefix="ask-pgbouncer-"))
    port = free_port()
    db = connection.settings_dict
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\nadmin_users = postgres\n"
        "pool_mode = transaction\ndefault_pool_size = 1\nmax_client_conn = 100\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
    )
    as_user = []
    if os.getuid() == 0:  # pgbouncer refuses to run as root
        shutil.chown(folder, "postgres")
        for path in folder.iterdir():
            shutil.chown(path, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    proc = subprocess.Popen([*as_user, "pgbouncer", str(folder / "pgbouncer.ini")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _answers(port), 20, what="pgbouncer")
        yield f"postgres://postgres@127.0.0.1:{port}/{db['NAME']}"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _answers(port: int) -> bool:
    try:
        psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="pgbouncer").close()
        return True
    except psycopg2.OperationalError:
        return False


def transactions_through(pooler_url: str) -> int:
    port = int(pooler_url.rsplit(":", 1)[1].split("/")[0])
    admin = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="pgbouncer")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SHOW STATS")
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    admin.close()
    return sum(row["total_xact_count"] for row in rows if row["database"] == connection.settings_dict["NAME"])


def test_pages_work_through_pgbouncer_in_transaction_mode(pgbouncer, gunicorn_factory):
    question = QuestionFactory(title="Through the pooler?")
    base = gunicorn_factory(DATABASE_URL=pgbouncer, DATABASE_TRANSACTION_POOLER="1",
                            JOBS_LOCK_DATABASE_URL=direct_url())
    before = transactions_through(pgbouncer)
    status, html = http_get(base + "/")
    assert status == 200 and "Through the pooler?" in html
    status, html = http_get(base + f"/q/{question.pk}/")
    assert status == 200 and "Through the pooler?" in html
    status, body = http_get(base + "/healthz", headers={"Authorization": MONITOR["HTTP_AUTHORIZATION"]})
    assert status == 200 and '"database": {"ok": true' in body
    assert transactions_through(pgbouncer) > before, "the pages' queries went through pgbouncer"


def overlapping_runs(var_dir, **env_overrides) -> list[tuple[int, str, str]]:
    env = process_env(var_dir, ASK_JOB_SCHEDULED="1", **env_overrides)  # as cron starts them: a skip is exit 0
    marker = var_dir / "worked.txt"
    procs = [start_manage("sample_job", "--sleep", "3", "--touch", str(marker), env=env) for _ in range(2)]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    return [(proc.returncode, out, err) for proc, (out, err) in zip(procs, outputs)]


def test_jobs_through_pgbouncer_with_a_direct_lock_connection_never_overlap(var_dir, pgbouncer):
    results = overlapping_runs(var_dir, DATABASE_URL=pgbouncer, DATABASE_TRANSACTION_POOLER="1",
                               JOBS_LOCK_DATABASE_URL=direct_url())
    assert [code for code, _, _ in results] == [0, 0], results
    assert (var_dir / "worked.txt").read_text() == "worked\n", "exactly one run did the work"
    assert sum("already running on " in out and "; skipped." in out for _, out, _ in results) == 1


@pytest.mark.parametrize("flagged, says", [
    ("1", "DATABASE_TRANSACTION_POOLER is on, and the job locks would go through the same pooler"),
    ("0", "the job lock's connection keeps no session of its own"),  # the pooler not declared: found out
])
def test_jobs_whose_locks_would_go_through_pgbouncer_refuse_to_run_in_one_line(var_dir, pgbouncer, flagged, says):
    results = overlapping_runs(var_dir, DATABASE_URL=pgbouncer, DATABASE_TRANSACTION_POOLER=flagged)
    assert not (var_dir / "worked.txt").exists(), "no run worked without a real lock"
    for code, _, err in results:
        assert code in (0, 1)
        if code == 1:
            [line] = err.strip().splitlines()
            assert says in line and "JOBS_LOCK_DATABASE_URL" in line
    assert any(code == 1 for code, _, _ in results)


def test_jobs_doctor_names_a_lock_connection_through_the_pooler(var_dir, pgbouncer):
    through_pooler = manage("jobs", "--doctor", env=process_env(var_dir, DATABASE_URL=pgbouncer))
    assert through_pooler.returncode == 1
    assert "PROBLEM  lock connection: the job lock's connection keeps no session" in through_pooler.stdout
    direct = manage("jobs", "--doctor", env=process_env(var_dir, DATABASE_URL=pgbouncer,
                                                        JOBS_LOCK_DATABASE_URL=direct_url()))
    assert "ok       lock connection: advisory locks on 127.0.0.1:5432 keep their session" in direct.stdout
