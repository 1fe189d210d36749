"""The Q&A models in the admin: staff find posts, and a deletion there keeps counters and pages right."""
import pytest
from django.test import Client

from ask.qa.models import Answer, AnswerVote, Question, Revision
from ask.qa.services import answer_accept_toggle, vote_cast
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_staff_find_questions_answers_tags_and_votes_by_words_and_author(staff):
    author = UserFactory(display_name="Grace")
    question = QuestionFactory(author=author, title="Segfault in the parser", tags=[TagFactory(name="cpp")])
    answer = AnswerFactory(question=question, text="Check the buffer length first")
    vote_cast(user=UserFactory(), target=answer, value=1)
    for url in ("/admin/ask/question/?q=segfault", "/admin/ask/question/?q=grace", "/admin/ask/question/?q=cpp",
                "/admin/ask/answer/?q=buffer", "/admin/ask/tag/?q=cpp", "/admin/ask/answervote/",
                "/admin/ask/questionvote/", f"/admin/ask/question/{question.pk}/change/",
                f"/admin/ask/answer/{answer.pk}/change/", "/admin/ask/question/?has_accepted__exact=0"):
        response = staff.get(url)
        assert response.status_code == 200, url
    assert "Segfault in the parser" in staff.get("/admin/ask/question/?q=grace").content.decode()
    assert "Segfault in the parser" not in staff.get("/admin/ask/question/?q=nothinglikeit").content.decode()
    assert Client().get("/admin/ask/question/").status_code == 302


def test_deleting_answers_and_votes_in_the_admin_fixes_the_counters_and_the_cached_page(staff):
    question = QuestionFactory()
    kept, gone = AnswerFactory(question=question), AnswerFactory(question=question)
    Question.objects.filter(pk=question.pk).update(answer_count=2)
    answer_accept_toggle(user=question.author, answer=gone)
    vote_cast(user=UserFactory(), target=kept, value=1)
    visitor = Client()
    assert "2 answers" in visitor.get(f"/q/{question.pk}/").content.decode()
    staff.post("/admin/ask/answer/", {"action": "delete_selected", "_selected_action": [gone.pk], "post": "yes"})
    question.refresh_from_db()
    assert (question.answer_count, question.has_accepted) == (1, False)
    assert "1 answer<" in visitor.get(f"/q/{question.pk}/").content.decode()
    vote = AnswerVote.objects.get()
    staff.post(f"/admin/ask/answervote/{vote.pk}/delete/", {"post": "yes"})
    assert Answer.objects.get().rating == 0


def test_a_text_changed_in_the_admin_is_rendered_again_and_shown_at_once(staff):
    question = QuestionFactory(title="Admin edits this question", text="Old words")
    visitor = Client()
    visitor.get(f"/q/{question.pk}/")
    staff.post(f"/admin/ask/question/{question.pk}/change/", {
        "author": question.author_id, "title": question.title, "text": "New **words**",
        "created_at_0": question.created_at.strftime("%Y-%m-%d"), "created_at_1": "10:00:00",
        "revisions-TOTAL_FORMS": 0, "revisions-INITIAL_FORMS": 0})
    assert Question.objects.get().text_html == "<p>New <strong>words</strong></p>\n"
    assert "New <strong>words</strong>" in visitor.get(f"/q/{question.pk}/").content.decode()
    assert list(Revision.objects.values_list("number", "text")) == [(1, "Old words"), (2, "New **words**")], \
        "a staff edit leaves a trace in the post's history"
    assert Question.objects.get().edited_at is not None


def test_an_answer_cannot_be_moved_to_another_question_in_the_admin(staff):
    answer = AnswerFactory()
    assert 'name="question"' not in staff.get(f"/admin/ask/answer/{answer.pk}/change/").content.decode()
