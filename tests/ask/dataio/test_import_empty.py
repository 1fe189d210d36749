"""import_data --atomic into empty tables loads as pg_restore does (ask.core.indexes_after): the rows
into bare tables, the indexes and keys built after. The result is the batch import's, exactly."""
import csv
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ask.dataio import importing
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote
from tests.ask.core.test_indexes_after import _schema, bared_tables
from tests.ask.dataio.test_export_import import export, import_

pytestmark = pytest.mark.django_db(transaction=True)

LOADED = ["ask_question", "ask_question_tags", "ask_answer", "ask_questionvote", "ask_answervote"]


@pytest.fixture
def bared(monkeypatch):
    """The tables each import bared, in order; and batches of 7 rows, so the reading thread works
    ahead of the writer while the tables are locked."""
    monkeypatch.setattr(importing, "BATCH", 7)
    return bared_tables(monkeypatch, importing)


def _exported(tmp_path, prefix: str) -> dict[str, bytes]:
    return {m: export(m, tmp_path / f"{prefix}{m}.csv", "csv") for m in ("questions", "answers", "votes")}


def _clear() -> None:
    for model in (AnswerVote, QuestionVote, Answer, Question.tags.through, Question):
        model.objects.all().delete()


@pytest.mark.parametrize("unsettled_max", [importing.UNSETTLED_MAX, 1], ids=["settled at the end", "as they come"])
def test_atomic_into_empty_tables_gives_what_batches_give_with_every_index_and_key_back(tmp_path, bared,
                                                                                        unsettled_max, monkeypatch):
    monkeypatch.setattr(importing, "UNSETTLED_MAX", unsettled_max)  # memory's bound: counters settled early
    call_command("fill_db", "1", "--seed", "3", stdout=StringIO())
    schema, files = _schema(LOADED), _exported(tmp_path, "")
    counters = list(Question.objects.order_by("pk").values_list("pk", "rating", "answer_count", "has_accepted"))
    _clear()
    for model in ("questions", "answers", "votes"):
        assert "0 rejected" in import_(model, tmp_path / f"{model}.csv", "--atomic")
    assert bared == [frozenset({"ask_question", "ask_question_tags"}), frozenset({"ask_answer"}),
                     frozenset({"ask_questionvote", "ask_answervote"})]
    assert _schema(LOADED) == schema
    assert _exported(tmp_path, "again-") == files
    assert list(Question.objects.order_by("pk").values_list("pk", "rating", "answer_count", "has_accepted")) \
        == counters, "counters added batch by batch, as in a batch import"
    # Into tables with rows: nothing bared, every row there already.
    assert " 0 written" in import_("answers", tmp_path / "answers.csv", "--atomic") and bared[-1] == frozenset()


def test_a_rejected_row_leaves_the_empty_table_empty_with_its_schema(tmp_path, bared):
    call_command("fill_db", "1", "--seed", "3", stdout=StringIO())
    schema, files = _schema(LOADED), _exported(tmp_path, "")
    _clear()
    assert "0 rejected" in import_("questions", tmp_path / "questions.csv")
    rows = list(csv.reader(StringIO(files["answers"].decode())))
    rows.insert(30, ["999999", str(Question.objects.first().pk), "nobody@example.com", "x", rows[1][4], "false"])
    with (tmp_path / "bad.csv").open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    with pytest.raises(CommandError, match="1 rejected.*nothing written"):
        import_("answers", tmp_path / "bad.csv", "--atomic")
    assert bared[-1] == frozenset({"ask_answer"}) and not Answer.objects.exists()
    assert _schema(LOADED) == schema
    assert not Question.objects.exclude(answer_count=0).exists(), "the counters' updates rolled back too"
