"""Q&A services against PostgreSQL: questions, answers, votes, accepting, counters, the sidebar."""
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from post_office.models import Email

from ask.qa import services
from ask.qa.counters import counters_recalculate
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote, SidebarSnapshot, Tag
from ask.qa.selectors import search_questions, suggest_titles
from ask.qa.sidebar import sidebar_calculate
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_asking_creates_tags_on_the_fly_and_reuses_existing_ones():
    TagFactory(name="python")
    question = services.question_create(author=UserFactory(), title="How to sort?", text="**Really**",
                                        tag_names=["python", "sorting"])
    assert sorted(question.tags.values_list("name", flat=True)) == ["python", "sorting"]
    assert Tag.objects.count() == 2
    assert question.text_html == "<p><strong>Really</strong></p>\n"


def test_an_answer_counts_and_mails_the_questions_author_but_not_for_their_own_answer():
    question = QuestionFactory(author=UserFactory(email="asker@example.com"))
    services.answer_create(author=UserFactory(display_name="Helper"), question=question, text="Try sorted().",
                           question_url="http://testserver/q/1/")
    services.answer_create(author=question.author, question=question, text="Thanks, that works.", question_url="x")
    question.refresh_from_db()
    assert question.answer_count == 2
    (mail,) = Email.objects.all()
    assert mail.to == ["asker@example.com"] and "Helper answered your question" in mail.message


def test_votes_can_be_cast_changed_and_withdrawn_and_the_rating_follows():
    question, voter = QuestionFactory(), UserFactory()
    assert services.vote_cast(user=voter, target=question, value=1) == 1
    assert services.vote_cast(user=voter, target=question, value=1) == 1, "the same vote again changes nothing"
    assert services.vote_cast(user=voter, target=question, value=-1) == -1
    assert services.vote_cast(user=voter, target=question, value=0) == 0
    assert not QuestionVote.objects.exists()
    answer = AnswerFactory()
    assert services.vote_cast(user=voter, target=answer, value=-1) == -1
    assert AnswerVote.objects.get().value == -1


def test_nobody_votes_on_their_own_post():
    question = QuestionFactory()
    with pytest.raises(services.VoteRefused):
        services.vote_cast(user=question.author, target=question, value=1)


@pytest.mark.django_db(transaction=True)
def test_ratings_stay_exact_under_concurrent_votes():
    question = QuestionFactory()
    voters = [UserFactory() for _ in range(12)]
    barrier = threading.Barrier(len(voters))
    errors = []

    def vote(user, value):
        try:
            barrier.wait()
            services.vote_cast(user=user, target=question, value=value)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=vote, args=(u, 1 if i % 3 else -1)) for i, u in enumerate(voters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    question.refresh_from_db()
    assert question.rating == 8 - 4 == sum(QuestionVote.objects.values_list("value", flat=True))


def test_only_the_author_accepts_and_there_is_one_accepted_answer():
    question = QuestionFactory()
    first, second = AnswerFactory(question=question), AnswerFactory(question=question)
    with pytest.raises(PermissionDenied):
        services.answer_accept_toggle(user=first.author, answer=first)
    assert services.answer_accept_toggle(user=question.author, answer=first) is True
    assert services.answer_accept_toggle(user=question.author, answer=second) is True
    assert list(Answer.objects.filter(is_accepted=True)) == [second]
    question.refresh_from_db()
    assert question.has_accepted
    assert services.answer_accept_toggle(user=question.author, answer=second) is False
    question.refresh_from_db()
    assert not question.has_accepted and not Answer.objects.filter(is_accepted=True).exists()


def test_recalculation_finds_and_fixes_every_wrong_counter():
    question = QuestionFactory()
    answer = AnswerFactory(question=question)
    services.vote_cast(user=UserFactory(), target=answer, value=1)
    Question.objects.update(rating=7, answer_count=5, has_accepted=True)
    Answer.objects.update(rating=-3)
    wrong = counters_recalculate(batch_size=10, dry_run=True)
    assert wrong == {"question ratings": 1, "answer counts": 1, "answer ratings": 1, "accepted flags": 1}
    assert Question.objects.get().rating == 7, "a dry run changes nothing"
    counters_recalculate(batch_size=10, dry_run=False)
    question.refresh_from_db()
    assert (question.rating, question.answer_count, question.has_accepted) == (0, 1, False)
    assert Answer.objects.get().rating == 1
    assert counters_recalculate(batch_size=10, dry_run=False) == dict.fromkeys(wrong, 0)


def test_popular_tags_count_questions_of_the_last_90_days():
    python, django, old = TagFactory(name="python"), TagFactory(name="django"), TagFactory(name="cobol")
    now = timezone.now()
    for _ in range(3):
        QuestionFactory(tags=[python])
    QuestionFactory(tags=[django, python])
    QuestionFactory(tags=[django], created_at=now - timedelta(days=89))
    for _ in range(5):
        QuestionFactory(tags=[old], created_at=now - timedelta(days=91))
    tags = sidebar_calculate()["tags"]
    assert tags == [{"name": "python", "count": 4}, {"name": "django", "count": 2}]


def test_best_members_by_votes_received_in_the_last_7_days():
    ada, bob, cy = UserFactory(display_name="Ada"), UserFactory(display_name="Bob"), UserFactory(display_name="Cy")
    voters = [UserFactory() for _ in range(3)]
    q_ada, a_bob, q_cy = QuestionFactory(author=ada), AnswerFactory(author=bob), QuestionFactory(author=cy)
    for voter in voters:
        services.vote_cast(user=voter, target=q_ada, value=1)
    for voter in voters[:2]:
        services.vote_cast(user=voter, target=a_bob, value=1)
    services.vote_cast(user=voters[0], target=q_cy, value=-1)
    AnswerVote.objects.filter(user=voters[1]).update(created_at=timezone.now() - timedelta(days=8))
    members = sidebar_calculate()["members"]
    assert [(m["display_name"], m["rating"]) for m in members] == [("Ada", 3), ("Bob", 1)]
    assert SidebarSnapshot.objects.get(pk=1).members == members


def test_full_text_search_ranks_title_matches_first_and_suggests_by_prefix():
    QuestionFactory(title="Sorting dictionaries by value", text="Plain words here")
    QuestionFactory(title="Something else entirely", text="You may be sorting dictionaries in the body")
    QuestionFactory(title="Unrelated", text="Nothing to see")
    assert [q.title for q in search_questions("sorting dictionaries").questions] == [
        "Sorting dictionaries by value", "Something else entirely"]
    suggested = {s["title"] for s in suggest_titles("dictionar")}
    assert suggested == {"Sorting dictionaries by value", "Something else entirely"}
    assert suggest_titles("") == [] and suggest_titles("!!!") == []
