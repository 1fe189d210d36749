"""import_data run as an admin runs it: Ctrl-C between batches, a second run of the same file, a dry
run; what is printed, the exit status, the run record and the counters left in the database."""
import signal

import pytest
from django.db import connection

from accounts.models import User
from ask.jobs.models import JobRun
from ask.qa.models import Answer
from tests.factories import AnswerFactory, QuestionFactory, UserFactory
from tests.support import manage, process_env, start_manage, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = "2026-01-01T00:00:00+00:00"
ANSWERS = 60_000  # six batches: the import is stopped in the second or a later one


def wrong_counters() -> list:
    """Questions whose answer count or accepted flag disagree with their answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT q.id FROM ask_question q WHERE q.answer_count <> (SELECT count(*) FROM ask_answer a "
                       "WHERE a.question_id = q.id) OR q.has_accepted <> EXISTS (SELECT 1 FROM ask_answer a "
                       "WHERE a.question_id = q.id AND a.is_accepted)")
        return cursor.fetchall()


def test_ctrl_c_between_batches_leaves_every_counter_right_and_a_second_run_finishes_the_file(var_dir, tmp_path):
    author = UserFactory()
    questions = [QuestionFactory(author=author).pk for _ in range(40)]
    path = tmp_path / "answers.csv"
    with path.open("w") as out:
        out.write("id,question,author,text,created_at,is_accepted\n")
        for n in range(1, ANSWERS + 1):
            out.write(f"{n},{questions[n % 40]},{author.email},Answer {n},{WHEN},{'true' if n <= 40 else 'false'}\n")
    env = process_env(var_dir)
    process = start_manage("import_data", "answers", str(path), env=env)
    wait_for(lambda: Answer.objects.exists(), timeout=60, interval=0.01, what="the first batch to commit")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    kept = Answer.objects.count()
    assert 0 < kept < ANSWERS and kept % 10_000 == 0, "whole batches only"
    assert wrong_counters() == [], "the committed batches' counters were updated with them"
    run = JobRun.objects.get(job="import_data")
    assert run.status == "failed" and run.error == "interrupted (Ctrl-C)"
    assert run.counters["new"] == kept, "the record counts what the committed batches wrote"
    assert AnswerFactory(question_id=questions[0], author=author).pk > kept, "the id sequence moved past them"

    again = manage("import_data", "answers", str(path), env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    # (the answer made meanwhile has the next free id, which the file's next row has too: updated)
    assert (f"{ANSWERS:,} rows read, {ANSWERS - kept:,} written: {ANSWERS - kept - 1:,} new, 1 updated, "
            f"{kept:,} unchanged, 0 rejected") in again.stdout
    assert Answer.objects.count() == ANSWERS and wrong_counters() == []


def test_a_dry_run_says_what_would_be_new_updated_and_unchanged_and_a_second_import_writes_nothing(var_dir, tmp_path):
    UserFactory(email="same@example.com", display_name="Same", date_joined=WHEN, activated_at=None)
    UserFactory(email="renamed@example.com", display_name="Old name", date_joined=WHEN, activated_at=None)
    path = tmp_path / "users.csv"
    path.write_text("email,display_name,is_active,date_joined,activated_at\n"
                    f"same@example.com,Same,true,{WHEN},\n"
                    f"renamed@example.com,New name,true,{WHEN},\n"
                    f"new@example.com,Newcomer,true,{WHEN},\n")
    env = process_env(var_dir)
    dry = manage("import_data", "users", str(path), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert ("3 rows read: 1 would be new, 1 updated, 1 unchanged, 0 rejected, in 1 batch(es) "
            "(dry run: nothing written)") in dry.stdout
    assert not User.objects.filter(email="new@example.com").exists()
    assert User.objects.get(email="renamed@example.com").display_name == "Old name"
    assert JobRun.objects.get(dry_run=True).counters == {
        "read": 3, "would be new": 1, "would be updated": 1, "would be unchanged": 1, "rejected": 0}

    first = manage("import_data", "users", str(path), env=env)
    assert "3 rows read, 2 written: 1 new, 1 updated, 1 unchanged, 0 rejected" in first.stdout, first.stderr
    second = manage("import_data", "users", str(path), env=env)
    assert "3 rows read, 0 written: 0 new, 0 updated, 3 unchanged, 0 rejected" in second.stdout, second.stderr
    assert User.objects.get(email="renamed@example.com").display_name == "New name"


@pytest.mark.parametrize("name", ["zeros.csv", "zeros.csv.gz"])
def test_a_binary_file_is_refused_in_one_line_and_recorded_as_a_failed_run(var_dir, tmp_path, name):
    import gzip
    path = tmp_path / name
    data = bytes(5000)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    result = manage("import_data", "tags", str(path), env=process_env(var_dir))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (f"CommandError: {path}: line 1: a NUL byte at byte 0 of the line: a binary "
                                     "file, not the CSV or JSON Lines export_data writes; nothing written. 0 rows "
                                     "read, 0 written: 0 new, 0 updated, 0 unchanged, 0 rejected, in 0 batch(es)")
    run = JobRun.objects.get(job="import_data")
    assert run.status == "failed" and run.error.startswith(f"{path}: line 1: a NUL byte")
    directory = manage("import_data", "tags", str(tmp_path), env=process_env(var_dir))
    assert directory.returncode == 1 and directory.stderr.strip() == f"CommandError: {tmp_path}: not a regular file."
