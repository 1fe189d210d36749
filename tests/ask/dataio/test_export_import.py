"""export_data and import_data: round trips, idempotent re-imports, and every kind of bad file."""
import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from ask.dataio.specs import SPECS
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote, Tag
from orders.models import Dish, Order, Restaurant

pytestmark = pytest.mark.django_db(transaction=True)

QA = ["users", "tags", "questions", "answers", "votes"]
SHOP = ["restaurants", "dishes", "orders"]


def export(model: str, path: Path, fmt: str) -> bytes:
    call_command("export_data", model, "--format", fmt, "--output", str(path), stdout=StringIO(), stderr=StringIO())
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def import_(model: str, path: Path, *args) -> str:
    out = StringIO()
    call_command("import_data", model, str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def wipe() -> None:
    for model in (AnswerVote, QuestionVote, Answer, Question.tags.through, Question, Tag, Order, Dish, Restaurant):
        model.objects.all().delete()
    User.objects.all().delete()


@pytest.mark.parametrize("fmt,suffix", [("csv", ".csv"), ("jsonl", ".jsonl"), ("csv", ".csv.gz"),
                                        ("jsonl", ".jsonl.gz")])
def test_export_import_into_an_empty_database_export_again_gives_identical_files(tmp_path, fmt, suffix):
    call_command("fill_db", "3", "--seed", "2", stdout=StringIO())
    call_command("fill_orders", "40", "--seed", "2", stdout=StringIO())
    first = {model: export(model, tmp_path / f"{model}{suffix}", fmt) for model in QA + SHOP}
    counts = (Question.objects.count(), Answer.objects.count(),
              QuestionVote.objects.count() + AnswerVote.objects.count(), Order.objects.count())
    ratings = dict(Question.objects.values_list("pk", "rating"))
    wipe()
    for model in QA + SHOP:
        import_(model, tmp_path / f"{model}{suffix}")
    assert (Question.objects.count(), Answer.objects.count(), QuestionVote.objects.count() + AnswerVote.objects.count(),
            Order.objects.count()) == counts
    assert dict(Question.objects.values_list("pk", "rating")) == ratings, "counters rebuilt from the imported votes"
    for model in QA + SHOP:
        assert export(model, tmp_path / f"again-{model}{suffix}", fmt) == first[model], model
    for model in QA + SHOP:
        assert "0 rejected" in import_(model, tmp_path / f"{model}{suffix}")
    assert Question.objects.count() == counts[0], "importing the same file twice changes nothing"


def test_no_secret_is_ever_exported(tmp_path):
    User.objects.create_user(email="ada@example.com", display_name="Ada", password="hunter2-secret")
    data = export("users", tmp_path / "u.csv", "csv").decode()
    assert "pbkdf2" not in data and "md5$" not in data and "password" not in data
    assert set(SPECS["users"].columns).isdisjoint({"password", "webhook_token_hash"})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "email,display_name,is_active,date_joined,activated_at\n"
GOOD = "ada@example.com,Ada,true,2026-01-01T00:00:00+00:00,\n"


@pytest.mark.parametrize("content,message", [
    ("", "the file is empty"),
    ("email,display_name\n" + "x@y.z,X\n", "missing columns: is_active, date_joined, activated_at"),
    (HEADER.strip() + ",colour\n" + GOOD.strip() + ",red\n", "unexpected columns: colour"),
])
def test_a_file_that_cannot_be_read_writes_nothing_and_says_why(tmp_path, content, message):
    with pytest.raises(CommandError, match=message):
        import_("users", write(tmp_path / "users.csv", content))
    assert not User.objects.exists()


def test_wrong_encoding_names_the_line(tmp_path):
    path = tmp_path / "users.csv"
    latin_1_line = "bob@example.com,Böb,true,2026-01-01T00:00:00+00:00,\n".encode("latin-1")
    path.write_bytes((HEADER + GOOD).encode() + latin_1_line)
    with pytest.raises(CommandError, match=r"line 3: not UTF-8 text"):
        import_("users", path, "--atomic")
    assert not User.objects.exists()


def test_a_truncated_gzip_is_refused_and_atomic_writes_nothing(tmp_path):
    rows = HEADER + "".join(f"u{n}@example.com,U{n},true,2026-01-01T00:00:00+00:00,\n" for n in range(5000))
    whole = gzip.compress(rows.encode())
    path = tmp_path / "users.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CommandError, match="gzip stream is damaged or cut short.*nothing written"):
        import_("users", path, "--atomic")
    assert not User.objects.exists()


def test_bad_rows_are_reported_with_line_field_and_reason_and_written_to_a_rejects_file(tmp_path):
    User.objects.create_user(email="known@example.com", display_name="Known")
    content = ("id,author,title,text,created_at,tags\n"
               "1,known@example.com,Fine question,Some text,2026-01-01T00:00:00+00:00,python\n"
               "2,known@example.com,Bad date,Some text,yesterday,python\n"
               "x,known@example.com,Bad id,Some text,2026-01-01T00:00:00+00:00,\n"
               "1,known@example.com,Duplicate,Some text,2026-01-01T00:00:00+00:00,\n"
               "5,nobody@example.com,Unknown author,Some text,2026-01-01T00:00:00+00:00,\n"
               "6,known@example.com,Too short a row\n")
    path = write(tmp_path / "questions.csv", content)
    with pytest.raises(CommandError) as raised:
        import_("questions", path)
    assert "6 rows read, 1 written: 1 new, 0 updated, 0 unchanged, 5 rejected, in 1 batch(es)" in str(raised.value)
    assert list(Question.objects.values_list("title", flat=True)) == ["Fine question"]
    rejects = (tmp_path / "questions.csv.rejects.csv").read_text().splitlines()
    assert rejects[0].startswith("line,field,reason")
    reasons = "\n".join(rejects[1:])
    assert "3,created_at,'yesterday' is not a date and time" in reasons
    assert "4,id,'x' is not a whole number" in reasons
    assert "5,id,the same key as line 2" in reasons
    assert "6,author,no user 'nobody@example.com'" in reasons
    assert '7,,"3 fields, the header has 6"' in reasons


def test_atomic_writes_nothing_when_a_row_is_rejected_and_dry_run_writes_nothing_at_all(tmp_path):
    path = write(tmp_path / "users.csv", HEADER + GOOD + "bad@example.com,Bad,maybe,2026-01-01T00:00:00+00:00,\n")
    with pytest.raises(CommandError, match="nothing written"):
        import_("users", path, "--atomic")
    assert not User.objects.exists()
    good = write(tmp_path / "good.csv", HEADER + GOOD)
    assert "1 would be new" in import_("users", good, "--dry-run") and not User.objects.exists()
    assert "1 written: 1 new" in import_("users", good)


def test_references_to_missing_rows_are_rejected(tmp_path):
    path = write(tmp_path / "votes.jsonl", json.dumps({"target": "question", "target_id": "999", "user": "x@y.z",
                                                       "value": "1", "created_at": "2026-01-01T00:00:00+00:00"}) + "\n")
    with pytest.raises(CommandError, match="1 rejected"):
        import_("votes", path)
