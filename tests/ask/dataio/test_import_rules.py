"""import_data into a database that already holds rows: batches, repeats, counters, caches, and the
values a column cannot hold."""
import csv
import gzip
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from ask.dataio import importing
from ask.qa.cache_keys import BULK_VERSION, LISTS_VERSION
from ask.qa.models import Answer, Question
from orders.models import Order
from tests.factories import AnswerFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = "2026-01-01T00:00:00+00:00"
ANSWERS = "id,question,author,text,created_at,is_accepted\n"


def import_(model: str, path: Path, *args) -> str:
    out = StringIO()
    call_command("import_data", model, str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rejects(path: Path) -> str:
    """The rejects file's line, field and reason columns, one rejected row per line."""
    with Path(f"{path}.rejects.csv").open(newline="") as source:
        return "\n".join(",".join(row[:3]) for row in csv.reader(source))


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 3)


def row_versions(table: str) -> list:
    """PostgreSQL's xmin of every row: it changes whenever a row is written, even with equal values."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, xmin::text FROM {table} ORDER BY id")
        return cursor.fetchall()


def test_a_key_repeated_in_a_later_batch_is_rejected_naming_its_first_line(tmp_path, small_batches):
    author = UserFactory()
    question = QuestionFactory()
    lines = [f"{n},{question.pk},{author.email},Answer {n},{WHEN},false\n" for n in range(1, 8)]
    lines.append(f"2,{question.pk},{author.email},Answer two again,{WHEN},false\n")
    path = write(tmp_path / "answers.csv", ANSWERS + "".join(lines))
    with pytest.raises(CommandError, match="8 rows read, 7 written: 7 new, 0 updated, 0 unchanged, 1 rejected, in 3"):
        import_("answers", path)
    assert "9,id,the same key as line 3" in rejects(path)
    assert Answer.objects.get(pk=2).text == "Answer 2", "the first of the two lines counts"


def test_reimporting_the_same_file_does_not_write_a_single_row(tmp_path):
    call_command("fill_db", "2", "--seed", "5", stdout=StringIO())
    for model in ("questions", "answers"):
        call_command("export_data", model, "--output", str(tmp_path / f"{model}.csv"), stdout=StringIO())
    before = row_versions("ask_question"), row_versions("ask_answer")
    version = cache.get_many([LISTS_VERSION, BULK_VERSION])
    for model in ("questions", "answers"):
        assert " 0 written: 0 new, 0 updated, " in import_(model, tmp_path / f"{model}.csv")
    assert (row_versions("ask_question"), row_versions("ask_answer")) == before
    assert cache.get_many([LISTS_VERSION, BULK_VERSION]) == version, "nothing changed, so no cached page goes stale"


def test_imported_answers_keep_the_counters_of_questions_already_there_exact(tmp_path):
    author = UserFactory()
    first, second = QuestionFactory(), QuestionFactory()
    moving = AnswerFactory(question=first, author=author)
    AnswerFactory(question=first, author=author)
    Question.objects.filter(pk=first.pk).update(answer_count=2)
    cache.set(BULK_VERSION, 1)
    path = write(tmp_path / "answers.csv", ANSWERS
                 + f"{moving.pk},{second.pk},{author.email},Moved here,{WHEN},true\n"
                 + f"{moving.pk + 100},{second.pk},{author.email},A new one,{WHEN},false\n")
    assert "2 written: 1 new, 1 updated, 0 unchanged" in import_("answers", path)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.answer_count, first.has_accepted) == (1, False)
    assert (second.answer_count, second.has_accepted) == (2, True)
    assert cache.get(BULK_VERSION) != 1, "the page the answer left is no longer served from cache"


def test_a_second_accepted_answer_for_a_question_is_rejected(tmp_path):
    author = UserFactory()
    question = QuestionFactory()
    accepted = AnswerFactory(question=question, is_accepted=True)
    path = write(tmp_path / "answers.csv", ANSWERS
                 + f"{accepted.pk + 1},{question.pk},{author.email},Also accepted,{WHEN},true\n"
                 + f"{accepted.pk},{question.pk},{author.email},Still accepted,{WHEN},true\n")
    with pytest.raises(CommandError, match="1 written.*1 rejected"):
        import_("answers", path)
    assert f"is_accepted,question {question.pk} has an accepted answer already ({accepted.pk})" in rejects(path)
    assert list(Answer.objects.filter(is_accepted=True).values_list("pk", flat=True)) == [accepted.pk]


def test_a_display_name_of_another_user_is_rejected_whatever_its_case(tmp_path):
    UserFactory(email="ada@example.com", display_name="Ada")
    path = write(tmp_path / "users.csv", "email,display_name,is_active,date_joined,activated_at\n"
                 f"other@example.com,ADA,true,{WHEN},\n"
                 f"ada@example.com,Ada Lovelace,true,{WHEN},\n")
    with pytest.raises(CommandError, match="1 written.*1 rejected"):
        import_("users", path)
    assert "display_name,'ADA' is the name of ada@example.com already" in rejects(path)
    assert User.objects.get(email="ada@example.com").display_name == "Ada Lovelace"


def test_a_file_cannot_deactivate_an_admin_or_revive_a_banned_member_without_change_active(tmp_path):
    """Security finding 18: import_data changed is_active of any account, superusers included."""
    User.objects.create_superuser("root@example.com", "Root", password="x-long-pass-1")
    UserFactory(email="banned@example.com", display_name="Banned", is_active=False)
    UserFactory(email="ada@example.com", display_name="Ada")
    path = write(tmp_path / "users.csv", "email,display_name,is_active,date_joined,activated_at\n"
                 f"root@example.com,Root,false,{WHEN},\n"
                 f"banned@example.com,Banned,true,{WHEN},\n"
                 f"ada@example.com,Ada L,true,{WHEN},\n"
                 f"new@example.com,New,false,{WHEN},\n")
    with pytest.raises(CommandError, match="2 written.*2 rejected"):
        import_("users", path)
    reasons = rejects(path)
    assert "is_active,would deactivate the existing account root@example.com; import_data --change-active" in reasons
    assert "is_active,would activate the existing account banned@example.com" in reasons
    assert User.objects.get(email="root@example.com").is_active
    assert not User.objects.get(email="banned@example.com").is_active
    assert User.objects.get(email="ada@example.com").display_name == "Ada L", "other changes still import"
    import_("users", path, "--change-active")
    assert not User.objects.get(email="root@example.com").is_active, "with the option, as the admin asked"
    assert User.objects.get(email="root@example.com").is_superuser, "staff and superuser flags are never imported"


@pytest.mark.parametrize("model,header,row,reason", [
    ("questions", "id,author,title,text,created_at,tags", f"1,a@b.c,{'T' * 201},Text,{WHEN},",
     "title,Ensure this value has at most 200 characters (it has 201)."),
    ("tags", "name", "Not A Tag", "name,'Not A Tag' is not a tag name"),
    ("orders", "id,customer,eta,status,total,address,delivery_provider,created_at,delivered_at,delayed_minutes,items",
     f'1,a@b.c,{WHEN},lost,1.00,Here,polled,{WHEN},,0,"[]"', "status,'lost' is not one of not_started"),
    ("orders", "id,customer,eta,status,total,address,delivery_provider,created_at,delivered_at,delayed_minutes,items",
     f'1,a@b.c,{WHEN},cooking,1.00,Here,polled,{WHEN},,-5,"[]"',
     "delayed_minutes,Ensure this value is greater than or equal to 0."),
    ("orders", "id,customer,eta,status,total,address,delivery_provider,created_at,delivered_at,delayed_minutes,items",
     f'1,a@b.c,{WHEN},cooking,123456789012,Here,polled,{WHEN},,0,"[]"',
     "total,Ensure that there are no more than 10 digits"),
    ("answers", ANSWERS.strip(), f"99999999999999999999,1,a@b.c,Text,{WHEN},false",
     "id,Ensure this value is less than or equal to"),
])
def test_a_value_the_column_cannot_hold_is_rejected_naming_the_field(tmp_path, model, header, row, reason):
    path = write(tmp_path / f"{model}.csv", f"{header}\n{row}\n")
    with pytest.raises(CommandError, match="1 rejected"):
        import_(model, path)
    assert f"2,{reason}" in rejects(path)
    assert not Question.objects.exists() and not Order.objects.exists()


def test_in_batch_mode_a_damaged_file_leaves_exactly_the_reported_batches_with_their_counters(tmp_path, small_batches):
    author = UserFactory()
    question = QuestionFactory()
    rows = ANSWERS + "".join(f"{n},{question.pk},{author.email},Answer number {n} {'x' * 200},{WHEN},false\n"
                             for n in range(1, 3001))
    whole = gzip.compress(rows.encode())
    path = tmp_path / "answers.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CommandError, match=r"gzip stream is damaged") as raised:
        import_("answers", path)
    written = Answer.objects.count()
    assert 0 < written < 3000 and written % 3 == 0, "whole batches only"
    assert f"{written:,} rows of earlier batches stay written" in str(raised.value)
    question.refresh_from_db()
    assert question.answer_count == written
