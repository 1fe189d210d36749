"""A database that is down when a job starts, or goes away in the middle of a run (done for real:
a closed port, and a PostgreSQL cluster of the test's own restarted under the job)."""
import pytest

from tests.pg_cluster import own_postgres
from tests.support import free_port, manage, process_env, start_manage, wait_for


@pytest.fixture
def own_cluster(transactional_db):
    """A throw-away PostgreSQL server holding the test database's schema, for restarting."""
    with own_postgres() as cluster:
        yield cluster


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
