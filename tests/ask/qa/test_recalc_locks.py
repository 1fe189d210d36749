"""recalc_ratings beside members voting: it reads without locks and locks only the rows it fixes, a
few at a time, so no transaction of it holds rows longer than a fraction of a second. Measured from
pg_stat_activity and pg_locks while the job, a real process, fixes thousands of wrong counters."""
import time
from io import StringIO

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from ask.qa.models import Answer, Question
from tests.support import manage, process_env, start_manage

pytestmark = pytest.mark.django_db(transaction=True)

# The longest a transaction of the job that holds row locks may last (members' votes wait that long).
BOUND_SECONDS = 0.1

LOCKING_TRANSACTIONS = """
    SELECT coalesce(max(extract(epoch FROM clock_timestamp() - a.xact_start)), 0)
    FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'transactionid' AND l.granted
    WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
"""


def test_recalc_ratings_holds_no_row_lock_for_long_while_fixing_thousands_of_counters(var_dir):
    if connection.vendor != "postgresql":
        pytest.skip("pg_stat_activity is PostgreSQL's")
    call_command("fill_db", "300", "--seed", "8", stdout=StringIO())
    Question.objects.update(rating=-999, answer_count=F("answer_count") + 7)
    Answer.objects.update(rating=-999)
    watcher = psycopg2.connect(**{k: v for k, v in connection.get_connection_params().items()
                                  if k != "cursor_factory"})
    watcher.autocommit = True
    cursor = watcher.cursor()
    job = start_manage("recalc_ratings", "-v1", env=process_env(var_dir))
    longest = 0.0
    while job.poll() is None:
        cursor.execute(LOCKING_TRANSACTIONS)
        longest = max(longest, float(cursor.fetchone()[0]))
        time.sleep(0.002)
    out, err = job.communicate()
    watcher.close()
    assert job.returncode == 0, err
    assert f"fixed {2 * Question.objects.count() + Answer.objects.count()} wrong counters" in out
    assert longest < BOUND_SECONDS, f"a transaction held row locks for {longest:.3f}s"
    again = manage("recalc_ratings", "--dry-run", "-v1", env=process_env(var_dir))
    assert "found 0 wrong counters" in again.stdout
