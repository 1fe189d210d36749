"""Authors edit and delete their posts: history kept, counters, search and cached pages right, others refused."""
import threading

import pytest
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.test import Client

from ask.core.caching import local_pages
from ask.qa import editing
from ask.qa.models import Answer, Question, QuestionVote, Revision
from ask.qa.services import answer_accept_toggle, question_create, vote_cast
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory
from tests.support import logged_in

# Real commits: the pages go stale on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_an_edit_keeps_the_original_and_each_version_and_shows_them_on_the_history_page():
    author = UserFactory(display_name="Ada")
    question = question_create(author=author, title="How do I sort a list?", text="First **text**.",
                               tag_names=["python"])
    client = logged_in(author)
    form = client.get(f"/q/{question.pk}/edit/")
    assert form.status_code == 200 and "First **text**." in form.content.decode()
    saved = client.post(f"/q/{question.pk}/edit/", {"title": "How do I sort a list of tuples?",
                                                    "text": "Second *text*, with tuples.", "tags": "python tuples"})
    assert saved.status_code == 302 and saved["Location"] == f"/q/{question.pk}/"
    client.post(f"/q/{question.pk}/edit/", {"title": "How do I sort a list of tuples?",
                                            "text": "Third text, by the second field.", "tags": "python"})
    question.refresh_from_db()
    assert question.text == "Third text, by the second field." and question.edited_at is not None
    assert list(question.tags.values_list("name", flat=True)) == ["python"]
    revisions = list(Revision.objects.filter(question=question).values_list("number", "title", "text", "tags"))
    assert revisions == [(1, "How do I sort a list?", "First **text**.", "python"),
                         (2, "How do I sort a list of tuples?", "Second *text*, with tuples.", "python tuples"),
                         (3, "How do I sort a list of tuples?", "Third text, by the second field.", "python")]
    history = Client().get(f"/q/{question.pk}/history/").content.decode()
    assert history.index("Third text") < history.index("<em>text</em>") < history.index("<strong>text</strong>")
    assert "As first posted" in history and "by Ada" in history
    page = Client().get(f"/q/{question.pk}/").content.decode()
    assert f'href="/q/{question.pk}/history/"' in page and "edited" in page


def test_saving_without_a_change_writes_no_revision(client):
    question = QuestionFactory(tags=[TagFactory(name="python")])
    assert not editing.question_edit(editor=question.author, question=question, title=question.title,
                                     text=question.text, tag_names=["python"])
    assert not Revision.objects.exists()
    assert Question.objects.get().edited_at is None


def test_only_the_author_may_edit_or_delete_and_others_see_no_controls():
    answer = AnswerFactory(text="The author's own answer text")
    stranger = logged_in(UserFactory())
    for url in (f"/q/{answer.question_id}/edit/", f"/a/{answer.pk}/edit/",
                f"/q/{answer.question_id}/delete/", f"/a/{answer.pk}/delete/"):
        refused = stranger.post(url, {"title": "A title long enough", "text": "x" * 40, "tags": ""})
        assert refused.status_code == 302 and refused["Location"].startswith(f"/q/{answer.question_id}/"), url
    assert Answer.objects.get().text == "The author's own answer text" and not Revision.objects.exists()
    page = stranger.get(f"/q/{answer.question_id}/").content.decode()
    assert f"/a/{answer.pk}/edit/" not in page and f"/q/{answer.question_id}/edit/" not in page
    assert Client().get(f"/a/{answer.pk}/edit/").status_code == 302  # to the log-in page
    with pytest.raises(editing.EditRefused):
        editing.answer_edit(editor=UserFactory(), answer=answer, text="Taken over by someone else")


def test_a_bad_edit_shows_the_errors_at_the_fields_and_changes_nothing():
    question = QuestionFactory(title="The title as first posted here")
    response = logged_in(question.author).post(f"/q/{question.pk}/edit/", {"title": "short", "text": "tiny",
                                                                           "tags": "a b c d"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"title", "text", "tags"}
    huge = logged_in(question.author).post(f"/q/{question.pk}/edit/", {"title": "A long enough title",
                                                                       "text": "(http://" * 4000, "tags": ""})
    assert "at most 30000 characters" in str(huge.context["form"].errors["text"]), "one post's cost is bounded"
    assert Question.objects.get().title == "The title as first posted here" and not Revision.objects.exists()


def test_an_edit_makes_the_cached_question_page_the_lists_and_the_card_stale_at_once(client):
    question = QuestionFactory(title="The old title of this question")
    answer = AnswerFactory(question=question, text="The old text of the answer")
    assert client.get(f"/q/{question.pk}/")["X-Cache"] == "miss" and client.get("/")["X-Cache"] == "miss"
    assert client.get(f"/q/{question.pk}/")["X-Cache"] == "hit"
    editing.question_edit(editor=question.author, question=question, title="The new title of this question",
                          text=question.text, tag_names=[])
    assert "The new title of this question" in client.get("/").content.decode()
    editing.answer_edit(editor=answer.author, answer=answer, text="The new text of the answer")
    page = client.get(f"/q/{question.pk}/").content.decode()
    assert "The new text of the answer" in page and "The new title of this question" in page


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_search_finds_a_question_by_the_words_of_its_edit_and_no_longer_by_the_old_ones(client):
    question = QuestionFactory(title="Parsing CSV files quickly", text="With the csv module, slowly.")
    editing.question_edit(editor=question.author, question=question, title="Parsing JSON lines quickly",
                          text="With orjson, one line at a time.", tag_names=[])
    assert "Parsing JSON lines quickly" in client.get("/search/?q=orjson").content.decode()
    assert "No question matches" in client.get("/search/?q=csv").content.decode()


def test_deleting_an_answer_takes_it_off_its_questions_counters():
    question = QuestionFactory()
    kept = AnswerFactory(question=question)
    gone = AnswerFactory(question=question)
    answer_accept_toggle(user=question.author, answer=gone)
    Question.objects.filter(pk=question.pk).update(answer_count=2)
    vote_cast(user=UserFactory(), target=gone, value=1)
    client = logged_in(gone.author)
    assert "will be gone for good" in client.get(f"/a/{gone.pk}/delete/").content.decode()
    assert Answer.objects.filter(pk=gone.pk).exists(), "a GET deletes nothing"
    assert client.post(f"/a/{gone.pk}/delete/")["Location"] == f"/q/{question.pk}/"
    question.refresh_from_db()
    assert (question.answer_count, question.has_accepted) == (1, False)
    assert list(Answer.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_question_others_answered_cannot_be_deleted_one_without_answers_can():
    answered = AnswerFactory().question
    client = logged_in(answered.author)
    refused = client.post(f"/q/{answered.pk}/delete/", follow=True)
    assert "Others have answered this question" in refused.content.decode()
    assert Question.objects.filter(pk=answered.pk).exists()
    alone = QuestionFactory(author=answered.author)
    QuestionVote.objects.create(user=UserFactory(), question=alone, value=1, created_at=alone.created_at)
    client.get("/")
    assert client.post(f"/q/{alone.pk}/delete/")["Location"] == "/"
    assert not Question.objects.filter(pk=alone.pk).exists() and not QuestionVote.objects.exists()
    assert Client().get(f"/q/{alone.pk}/").status_code == 404


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_two_edits_at_once_both_keep_their_version_numbered_one_after_the_other():
    question = QuestionFactory(title="The question as it was first", text="Original text of the question")
    errors = []

    def edit(n):
        try:
            editing.question_edit(editor=question.author, question=question, title=f"Edited at once, number {n}",
                                  text=f"Text of edit number {n}", tag_names=[])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    numbers = list(Revision.objects.filter(question=question).values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5]
    last = Revision.objects.get(question=question, number=5)
    assert Question.objects.get().text == last.text


def test_the_history_and_edit_pages_run_the_same_number_of_queries_however_many_versions():
    from django.test.utils import CaptureQueriesContext

    answer = AnswerFactory()
    client = logged_in(answer.author)

    def queries() -> list[int]:
        counts = []
        for url in (f"/a/{answer.pk}/history/", f"/a/{answer.pk}/edit/", f"/q/{answer.question_id}/"):
            cache.clear()  # the question page rendered each time, not its shell from the cache
            local_pages.clear()
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200, url
            counts.append(len(captured))
        return counts

    edits = iter(range(100))
    for _ in range(2):
        editing.answer_edit(editor=answer.author, answer=answer, text=f"Version number {next(edits)} of it")
    queries()  # the session's first request reads more (its session row): measure from the second
    few = queries()
    for _ in range(12):
        editing.answer_edit(editor=answer.author, answer=answer, text=f"Version number {next(edits)} of it")
    assert queries() == few
