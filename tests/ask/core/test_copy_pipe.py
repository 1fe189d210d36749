"""COPY on a thread of its own (ask.core.copy_pipe), on the real PostgreSQL: chunks land in the
opening thread's transaction, in order; a failure there is raised here; a failure here waits for
the pipe before the transaction is rolled back."""
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from ask.core.bulk import RowWriter
from ask.core.copy_pipe import CopyPipe
from ask.qa.models import Tag

pytestmark = pytest.mark.django_db(transaction=True)


def test_chunks_land_in_the_callers_transaction_in_order(monkeypatch):
    monkeypatch.setattr("ask.core.bulk.CHUNK_ROWS", 100)
    with transaction.atomic(), CopyPipe() as pipe:
        rows = RowWriter.of(Tag, ["name"], pipe=pipe)
        for n in range(1050):
            rows.write((f"tag-{n:04}",))
        assert rows.close() == 1050
    assert list(Tag.objects.order_by("id").values_list("name", flat=True)) == [f"tag-{n:04}" for n in range(1050)]


def test_a_chunk_the_database_refuses_is_raised_in_the_loading_thread_and_nothing_is_kept():
    with pytest.raises(IntegrityError), transaction.atomic(), CopyPipe() as pipe:
        rows = RowWriter.of(Tag, ["name"], pipe=pipe)
        rows.write(("kept?",))
        rows.write((None,))  # NOT NULL
        rows.close()
    assert not Tag.objects.exists()


def test_a_failure_while_making_rows_waits_for_the_pipe_before_the_rollback(monkeypatch):
    monkeypatch.setattr("ask.core.bulk.CHUNK_ROWS", 50)
    pipes = []
    with pytest.raises(RuntimeError), transaction.atomic(), CopyPipe() as pipe:
        pipes.append(pipe)
        rows = RowWriter.of(Tag, ["name"], pipe=pipe)
        for n in range(400):
            rows.write((f"tag-{n}",))
        raise RuntimeError("the generator broke")
    assert not pipes[0]._thread.is_alive() and "copy-pipe" not in [t.name for t in threading.enumerate()]
    assert not Tag.objects.exists()


def test_reserved_ids_are_a_range_or_whatever_the_sequence_gave():
    from ask.core.bulk import reserve_ids

    first = reserve_ids("ask_tag", 1000)
    assert isinstance(first, range) and len(first) == 1000
    assert reserve_ids("ask_tag", 3)[0] == first[-1] + 1, "the next ones follow"
    with connection.cursor() as cursor:  # as if other writers took every other id meanwhile
        cursor.execute("ALTER SEQUENCE ask_tag_id_seq INCREMENT BY 2")
    try:
        stepped = reserve_ids("ask_tag", 5)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER SEQUENCE ask_tag_id_seq INCREMENT BY 1")
    assert not isinstance(stepped, range) and len(stepped) == 5
    assert [b - a for a, b in zip(stepped, stepped[1:])] == [2] * 4
