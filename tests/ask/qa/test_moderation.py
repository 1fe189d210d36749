"""Flags, the moderation queue, hiding and restoring, suspending, and purge_spam with its grace period."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ask.qa import moderation
from ask.qa.models import Answer, AnswerVote, Flag, PurgedPost, Question
from ask.qa.services import answer_accept_toggle, vote_cast
from ask.qa.sidebar import sidebar_calculate
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory
from tests.support import logged_in

# Real commits: pages go stale and the sidebar is recomputed on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff() -> Client:
    return logged_in(UserFactory(display_name="Moderator", is_staff=True))


def test_a_member_flags_a_post_once_and_never_their_own():
    answer = AnswerFactory()
    member = logged_in(UserFactory())
    flagged = member.post(f"/flag/answer/{answer.pk}/", {"reason": "spam"}, follow=True)
    assert "a moderator will look at it" in flagged.content.decode()
    again = member.post(f"/flag/answer/{answer.pk}/", {"reason": "offensive"}, follow=True)
    assert "You have flagged this post already" in again.content.decode()
    assert "Choose why" in member.post(f"/flag/question/{answer.question_id}/", {"reason": "boring"},
                                       follow=True).content.decode()
    assert "You flagged this answer as spam." in flagged.content.decode(), "the page says it, not a form again"
    own = logged_in(answer.author).post(f"/flag/answer/{answer.pk}/", {"reason": "spam"}, follow=True)
    assert "You cannot flag your own post" in own.content.decode()
    assert list(Flag.objects.values_list("reason", "answer_id")) == [("spam", answer.pk)]
    assert Client().post(f"/flag/answer/{answer.pk}/", {"reason": "spam"}).status_code == 302  # log in first
    assert Flag.objects.count() == 1


def test_the_queue_is_for_staff_only_and_lists_the_most_flagged_first(staff):
    once, twice = QuestionFactory(title="Flagged once, a question"), QuestionFactory(title="Flagged twice, buy pills")
    for question, members in ((once, 1), (twice, 2)):
        for _ in range(members):
            moderation.flag_create(user=UserFactory(), post=question, reason="spam")
    assert Client().get("/moderation/")["Location"].startswith("/accounts/login/?next=/moderation/")
    assert logged_in(UserFactory()).get("/moderation/").status_code == 404
    page = staff.get("/moderation/").content.decode()
    assert page.index("Flagged twice, buy pills") < page.index("Flagged once, a question")
    assert "2 flags: Spam 2" in page


def test_a_hidden_question_leaves_lists_search_profile_and_its_page_at_once_and_comes_back_on_restore(staff):
    tag = TagFactory(name="pills")
    spam = QuestionFactory(title="Cheap pills for sale today", tags=[tag])
    visitor = Client()
    urls = ["/", "/hot/", "/tag/pills/", f"/u/{spam.author_id}/", "/search/?q=pills"]
    for url in urls:  # cached for visitors first
        assert f'href="/q/{spam.pk}/"' in visitor.get(url).content.decode(), url
    assert visitor.get(f"/q/{spam.pk}/").status_code == 200
    staff.post(f"/moderation/question/{spam.pk}/hide/", {"reason": "spam"})
    for url in urls:
        assert f'href="/q/{spam.pk}/"' not in visitor.get(url).content.decode(), url
    assert visitor.get(f"/q/{spam.pk}/").status_code == 404
    assert visitor.get("/search/suggest/?q=cheap").json() == {"suggestions": []}
    staff.post(f"/moderation/question/{spam.pk}/restore/")
    assert "Cheap pills for sale today" in visitor.get("/").content.decode()
    assert visitor.get(f"/q/{spam.pk}/").status_code == 200


def test_a_hidden_answer_leaves_its_question_and_its_counters_and_recalc_agrees(staff):
    question = QuestionFactory()
    kept, spam = AnswerFactory(question=question), AnswerFactory(question=question, text="Visit my pill shop now")
    Question.objects.filter(pk=question.pk).update(answer_count=2)
    answer_accept_toggle(user=question.author, answer=spam)
    moderation.flag_create(user=UserFactory(), post=spam, reason="spam")
    staff.post(f"/moderation/answer/{spam.pk}/hide/", {"reason": "spam"})
    question.refresh_from_db()
    assert (question.answer_count, question.has_accepted) == (1, False)
    assert "Visit my pill shop now" not in Client().get(f"/q/{question.pk}/").content.decode()
    assert Flag.objects.get().resolved_at is not None, "hiding handles its flags"
    out = StringIO()
    call_command("recalc_ratings", stdout=out)
    question.refresh_from_db()
    assert (question.answer_count, question.has_accepted) == (1, False), out.getvalue()
    staff.post(f"/moderation/answer/{spam.pk}/restore/")
    question.refresh_from_db()
    assert (question.answer_count, question.has_accepted) == (2, True)
    assert kept.pk in Answer.objects.filter(hidden_at=None).values_list("pk", flat=True)


def test_hidden_posts_and_suspended_members_leave_the_sidebar_at_once(staff):
    spammer, honest = UserFactory(display_name="Spammer"), UserFactory(display_name="Honest")
    spam = QuestionFactory(author=spammer, tags=[TagFactory(name="pills")])
    good = QuestionFactory(author=honest, tags=[TagFactory(name="python")])
    for _ in range(2):
        vote_cast(user=UserFactory(), target=spam, value=1)
    vote_cast(user=UserFactory(), target=good, value=1)
    sidebar_calculate()
    visitor = Client()
    assert "Spammer" in visitor.get("/").content.decode()
    staff.post(f"/moderation/member/{spammer.pk}/suspend/", {"hide_posts": "1"})
    page = visitor.get("/").content.decode()
    assert "Spammer" not in page and "/tag/pills/" not in page and "Honest" in page
    spammer.refresh_from_db()
    assert not spammer.is_active
    assert Question.objects.get(pk=spam.pk).hidden_reason == "spam"


def test_a_suspended_member_is_logged_out_at_their_next_request(staff):
    member = UserFactory()
    session = logged_in(member)
    assert session.get("/ask/").status_code == 200
    staff.post(f"/moderation/member/{member.pk}/suspend/")
    assert session.get("/ask/").status_code == 302
    colleague = UserFactory(is_staff=True)
    refused = staff.post(f"/moderation/member/{colleague.pk}/suspend/", follow=True)
    assert "Staff members are suspended in the admin" in refused.content.decode()
    colleague.refresh_from_db()
    assert colleague.is_active


def test_purge_spam_deletes_only_spam_hidden_longer_than_the_grace_period_and_records_it(settings):
    settings.QA_SPAM_GRACE_DAYS = 7
    now = timezone.now()
    old_spam, new_spam = QuestionFactory(title="Old spam question"), QuestionFactory(title="New spam question")
    offensive, spam_answer = QuestionFactory(), AnswerFactory(text="Old spam answer")
    vote_cast(user=UserFactory(), target=spam_answer, value=1)
    for post, reason in ((old_spam, "spam"), (new_spam, "spam"), (offensive, "offensive"), (spam_answer, "spam")):
        moderation.post_hide(post=post, reason=reason)
    eight_days, six_days = now - timedelta(days=8), now - timedelta(days=6, hours=23)
    Question.objects.filter(pk__in=[old_spam.pk, offensive.pk]).update(hidden_at=eight_days)
    Question.objects.filter(pk=new_spam.pk).update(hidden_at=six_days)
    Answer.objects.filter(pk=spam_answer.pk).update(hidden_at=eight_days)
    dry = StringIO()
    call_command("purge_spam", "--dry-run", stdout=dry)
    assert f"would delete question {old_spam.pk}" in dry.getvalue() and f"answer {spam_answer.pk}" in dry.getvalue()
    assert "would delete 1 questions and 1 answers" in dry.getvalue() and Question.objects.count() == 4
    out = StringIO()
    call_command("purge_spam", stdout=out)
    assert "deleted 1 questions and 1 answers hidden as spam" in out.getvalue()
    assert set(Question.objects.values_list("pk", flat=True)) == {new_spam.pk, offensive.pk, spam_answer.question_id}
    assert not Answer.objects.filter(pk=spam_answer.pk).exists() and not AnswerVote.objects.exists()
    records = {(r.kind, r.post_id): r for r in PurgedPost.objects.all()}
    assert set(records) == {("question", old_spam.pk), ("answer", spam_answer.pk)}
    assert records[("answer", spam_answer.pk)].excerpt == "Old spam answer"
    assert records[("question", old_spam.pk)].title == "Old spam question"
    call_command("purge_spam", stdout=(again := StringIO()))
    assert "deleted 0 questions and 0 answers" in again.getvalue()


def test_posts_under_a_hidden_question_and_hidden_answers_cannot_be_reached_or_accepted(staff):
    answer = AnswerFactory()
    member = logged_in(UserFactory())
    staff.post(f"/moderation/question/{answer.question_id}/hide/", {"reason": "offensive"})
    for url in (f"/a/{answer.pk}/history/",):
        assert Client().get(url).status_code == 404
    assert member.post(f"/flag/answer/{answer.pk}/", {"reason": "spam"}).status_code == 404
    assert member.post(f"/vote/answer/{answer.pk}/", {"value": "1"}).status_code == 404
    staff.post(f"/moderation/question/{answer.question_id}/restore/")
    staff.post(f"/moderation/answer/{answer.pk}/hide/", {"reason": "spam"})
    asker = logged_in(answer.question.author)
    assert asker.post(f"/accept/{answer.pk}/", HTTP_ACCEPT="application/json").status_code == 404
    assert not Question.objects.get().has_accepted


def test_purge_spam_keeps_a_spam_question_others_answered(settings):
    settings.QA_SPAM_GRACE_DAYS = 7
    answered = AnswerFactory(text="A real answer by someone else").question
    moderation.post_hide(post=answered, reason="spam")
    Question.objects.filter(pk=answered.pk).update(hidden_at=timezone.now() - timedelta(days=30))
    call_command("purge_spam", stdout=(out := StringIO()))
    assert "deleted 0 questions" in out.getvalue() and Answer.objects.filter(text__startswith="A real").exists()


def test_the_queue_and_the_digest_page_run_the_same_number_of_queries_however_much_there_is(staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ask.qa import digests

    member = logged_in(reader := UserFactory())

    def build(n: int) -> None:
        for _ in range(n):
            question = QuestionFactory(tags=[TagFactory()])
            moderation.flag_create(user=UserFactory(), post=AnswerFactory(question=question), reason="spam")
            moderation.flag_create(user=UserFactory(), post=question, reason="off_topic")
            moderation.post_hide(post=QuestionFactory(), reason="offensive")
            digests.tag_follow(user=reader, tag=question.tags.get(), follow=True)

    def queries() -> list[int]:
        counts = []
        for client, url in ((staff, "/moderation/"), (member, "/digest/")):
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    build(2)
    few = queries()
    build(8)
    assert queries() == few


def test_staff_see_a_hidden_question_marked_as_hidden_and_can_restore_it_there(staff):
    question = QuestionFactory(title="Hidden but reviewable")
    moderation.post_hide(post=question, reason="offensive")
    page = staff.get(f"/q/{question.pk}/").content.decode()
    assert "Hidden by a moderator as offensive" in page and "Hidden but reviewable" in page
    assert Client().get(f"/q/{question.pk}/").status_code == 404
    assert logged_in(UserFactory()).get(f"/q/{question.pk}/").status_code == 404
