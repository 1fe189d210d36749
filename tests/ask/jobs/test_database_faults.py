"""A database that is down when a job starts, or goes away in the middle of a run (done for real:
a closed port, and a PostgreSQL cluster of the test's own restarted under the job)."""
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.support import free_port, manage, process_env, start_manage, wait_for


@dataclass
class Cluster:
    url: str
    port: int
    pg_ctl: list

    def query(self, sql: str) -> list:
        with psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="ask") as conn:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()

    def restart(self, down_seconds: float) -> None:
        """Stopped, left down a while (the run notices in the meantime), started again."""
        subprocess.run([*self.pg_ctl, "stop", "-m", "fast"], check=True, capture_output=True)
        time.sleep(down_seconds)
        subprocess.run([*self.pg_ctl, "start"], check=True, capture_output=True)


@pytest.fixture
def own_cluster(transactional_db):
    """A throw-away PostgreSQL server holding the test database's schema, for restarting."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = Path(tempfile.mkdtemp(prefix="ask-pg-"))
    as_postgres = []
    if os.getuid() == 0:  # initdb refuses root
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_postgres, bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                   check=True, capture_output=True)
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "-o",
              f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"]
    subprocess.run([*pg_ctl, "start"], check=True, capture_output=True)
    try:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "ask"], check=True)
        db = connection.settings_dict  # the test database pytest-django made
        schema = subprocess.run(["pg_dump", "--schema-only", "-h", db["HOST"] or "127.0.0.1",
                                 "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres", db["NAME"]],
                                check=True, capture_output=True).stdout
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "ask"], input=schema, check=True, capture_output=True)
        yield Cluster(f"postgres://postgres@127.0.0.1:{port}/ask", port, pg_ctl)
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_a_database_down_at_the_start_gives_one_line_exit_75_and_the_same_line_in_the_log(var_dir):
    port = free_port()  # nothing listens there
    result = manage("sample_job", "-v0", env=process_env(var_dir, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/ask"))
    expected = f"sample_job: database unreachable: connection refused at 127.0.0.1:{port}; nothing done"
    assert result.returncode == 75
    assert result.stderr.strip() == expected and result.stdout == ""
    assert expected in (var_dir / "log.txt").read_text()


def test_a_database_restarted_in_the_middle_of_a_run_ends_it_in_one_line_and_it_is_recorded(var_dir, own_cluster):
    env = process_env(var_dir, DATABASE_URL=own_cluster.url)
    proc = start_manage("sample_job", "--rows", "20", "--batch-size", "1", "--sleep", "10", "--write", env=env)
    wait_for(lambda: own_cluster.query(f"SELECT count(*) FROM jobapp_samplerow WHERE pid = {proc.pid}")[0][0] >= 2,
             30, what="the run writing")
    own_cluster.restart(down_seconds=4)
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(("sample_job failed: database connection lost: ", "sample_job failed: lost its lock")), err
    # Recorded as soon as the database answered again, before the process ended.
    [(status, error)] = own_cluster.query(f"SELECT status, error FROM jobs_jobrun WHERE pid = {proc.pid}")
    assert status == "failed" and error.splitlines()[0] in err
    written = own_cluster.query(f"SELECT count(*) FROM jobapp_samplerow WHERE pid = {proc.pid}")[0][0]
    assert 2 <= written < 20, "it stopped instead of working on as if nothing happened"
