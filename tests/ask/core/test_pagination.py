"""Deep pages are read from their first row's sort key, and show exactly what an OFFSET would."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ask.core import pagination
from ask.core.pagination import page_of
from ask.qa import selectors
from ask.qa.models import Question
from tests.factories import QuestionFactory, TagFactory, UserFactory


@pytest.fixture
def listed(db):
    """23 questions, ratings full of ties, every third one tagged, two hidden."""
    author, tag = UserFactory(), TagFactory(name="python")
    questions = [QuestionFactory(author=author, rating=(n * 7) % 4, tags=[tag] if n % 3 == 0 else None)
                 for n in range(23)]
    Question.objects.filter(pk__in=[questions[4].pk, questions[9].pk]).update(hidden_at=timezone.now())
    return tag


def _every_page(items, per_page=2) -> tuple[list[list[int]], list[str]]:
    pages, number = [], 1
    with CaptureQueriesContext(connection) as queries:
        while True:
            window = page_of(items, str(number), per_page)
            pages.append([q.pk for q in window.object_list])
            if not window.has_next:
                return pages, [q["sql"] for q in queries.captured_queries]
            number += 1


@pytest.mark.parametrize("selector", ["questions_new", "questions_hot", "questions_tagged"])
def test_deep_pages_show_what_an_offset_shows_ties_and_hidden_questions_included(listed, selector, monkeypatch):
    items = getattr(selectors, selector)(*([listed] if selector == "questions_tagged" else []))
    by_offset, offset_sql = _every_page(items)
    monkeypatch.setattr(pagination, "DEEP_ROWS", 2)  # from page 2 on
    by_key, key_sql = _every_page(items)
    assert by_key == by_offset and sum(by_offset, []) == list(items.values_list("pk", flat=True))
    assert len(by_offset) >= 3 and not any(") <= (" in sql for sql in offset_sql)
    assert sum(") <= (" in sql for sql in key_sql) == len(by_offset) - 1, "each deep page by its first row's key"
    assert not any("OFFSET" in sql and "SUBSTR" in sql.upper() for sql in key_sql), "no row built only to skip"


@pytest.mark.django_db
def test_a_page_past_the_end_is_a_404_also_deep(listed, monkeypatch, client):
    monkeypatch.setattr(pagination, "DEEP_ROWS", 4)
    assert client.get("/?page=2").status_code == 200 and client.get("/?page=3").status_code == 404
    assert client.get("/hot/?page=99999").status_code == 404


def test_lists_that_a_row_comparison_cannot_page_keep_the_offset(db):
    question = QuestionFactory()
    assert pagination._sort_key(selectors.answers_of(question)) is None, "mixed directions"
    assert pagination._sort_key(Question.objects.order_by("-rating")) is None, "the last column not unique"
    assert pagination._sort_key(Question.objects.order_by("-edited_at", "-id")) is None, "a nullable column"
    assert pagination._sort_key(Question.objects.order_by("author", "id")) is None, "a relation"
    assert pagination._sort_key(selectors.questions_hot()) == (["rating", "id"], True)
