"""Loads into empty tables with their indexes and constraints built after (ask.core.indexes_after),
on the real PostgreSQL: the schema comes back exactly, a failed load leaves it as it was, and a
constraint the rows break fails the load instead of being left out."""
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction

from ask.core.indexes_after import indexes_after
from ask.qa.filling import FILLED_TABLES, qa_fill
from ask.qa.models import Answer, Question, Tag
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _schema(tables: list[str]) -> list[str]:
    """Every index and constraint of the tables, as PostgreSQL would write them again."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid) FROM pg_index "
                       "WHERE indrelid = ANY(%s::regclass[]) UNION ALL "
                       "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) "
                       "|| ' ' || condeferrable || condeferred || convalidated FROM pg_constraint "
                       "WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1", [tables, tables])
        return [row[0] for row in cursor.fetchall()]


def bared_tables(monkeypatch, module) -> list[frozenset]:
    """The tables each indexes_after of module bares, in order, as the load goes on."""
    seen: list[frozenset] = []
    real = module.indexes_after

    @contextmanager
    def spy(tables, **options):
        with real(tables, **options) as bare:
            seen.append(bare)
            yield bare

    monkeypatch.setattr(module, "indexes_after", spy)
    return seen


def test_fill_db_into_empty_tables_gets_every_index_and_constraint_back():
    before = _schema(FILLED_TABLES)
    assert len(before) > 30
    qa_fill(ratio=20, seed=3)
    assert _schema(FILLED_TABLES) == before
    assert Answer.objects.count() == 2000 and Question.objects.count() == 200
    # ... and again over what is there (--clear empties the tables in the same transaction, after a
    # delete of users whose keys were still to be checked: those checks run before the indexes go).
    qa_fill(ratio=20, seed=4, clear=True)
    assert _schema(FILLED_TABLES) == before and Question.objects.count() == 200


def test_a_table_with_rows_keeps_its_indexes_during_the_load():
    QuestionFactory()
    seen = {}
    with transaction.atomic(), indexes_after(["ask_question", "ask_tag"]):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", ["ask_question"])
            seen["question"] = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", ["ask_tag"])
            seen["tag"] = cursor.fetchone()[0]
    assert seen["question"] > 3, "ask_question has a row: untouched"
    assert seen["tag"] == 1, "ask_tag was empty: only its primary key during the load"


def test_a_load_that_fails_leaves_the_schema_as_it_was():
    before = _schema(["ask_tag"])
    with pytest.raises(RuntimeError), transaction.atomic(), indexes_after(["ask_tag"]):
        Tag.objects.create(name="python")
        raise RuntimeError("the load stops half-way")
    assert _schema(["ask_tag"]) == before and not Tag.objects.exists()


def test_rows_that_break_a_constraint_fail_the_load_when_it_is_built():
    before = _schema(["ask_tag"])
    with pytest.raises(IntegrityError), transaction.atomic(), indexes_after(["ask_tag"]):
        with connection.cursor() as cursor:  # no unique index meanwhile: the duplicate goes in
            cursor.execute("INSERT INTO ask_tag (name) VALUES ('twice'), ('twice')")
    assert _schema(["ask_tag"]) == before and not Tag.objects.exists()
