"""Following and digests: what a digest holds, each sent once (re-runs, two runs at once, a crash
mid-run), weekly ones weekly, and the one-click unsubscribe."""
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from post_office.models import Email

from ask.qa import digests
from ask.qa.models import Digest
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
TOMORROW = timedelta(days=1)


def _member_following(tag_name: str = "python"):
    member = UserFactory()
    digests.tag_follow(user=member, tag=TagFactory(name=tag_name), follow=True)
    return member


def _digests_to(member) -> list[Email]:
    return list(Email.objects.filter(to=[member.email]))


def test_a_digest_holds_new_questions_in_followed_tags_and_new_answers_on_ones_own_and_followed_questions():
    member = _member_following("python")
    own, followed, other = QuestionFactory(author=member), QuestionFactory(title="A followed one"), QuestionFactory()
    digests.question_follow(user=member, question=followed, follow=True)
    QuestionFactory(title="Sorting dicts by value", tags=[TagFactory(name="python")])
    QuestionFactory(title="My own python question", author=member, tags=[TagFactory(name="python")])
    QuestionFactory(title="A rust question", tags=[TagFactory(name="rust")])
    AnswerFactory(question=own, text="An answer on your own question")
    AnswerFactory(question=followed, text="An answer on a followed question")
    AnswerFactory(question=other, text="An answer elsewhere")
    hidden = QuestionFactory(title="Hidden python spam", tags=[TagFactory(name="python")])
    hidden.hidden_at = timezone.now()
    hidden.save()
    counts = digests.digests_send(now=timezone.now() + TOMORROW)
    assert counts == {"mailed": 1, "nothing new": 0, "taken by another run": 0}
    (mail,) = _digests_to(member)
    assert mail.subject == "Your daily ask digest: 1 new question, 2 new answers"
    assert "Sorting dicts by value" in mail.message and "An answer on your own question" in mail.message
    assert "An answer on a followed question" in mail.message
    for absent in ("A rust question", "My own python question", "An answer elsewhere", "Hidden python spam"):
        assert absent not in mail.message
    assert mail.headers["List-Unsubscribe"].startswith("<http://") and "/digest/unsubscribe/" in mail.message
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_rerun_sends_nothing_and_a_member_with_nothing_new_gets_no_mail():
    member, quiet = _member_following("python"), _member_following("haskell")
    Digest.objects.update(sent_until=timezone.now() - timedelta(days=2))  # the last digests went out before
    QuestionFactory(tags=[TagFactory(name="python")], created_at=timezone.now() - timedelta(hours=1))
    out = StringIO()
    call_command("send_digests", "--dry-run", stdout=out)
    assert f"would mail {member.email}: 1 new questions, 0 new answers" in out.getvalue()
    assert "would mail 1 digests" in out.getvalue() and not _digests_to(member), "a dry run mails nothing"
    call_command("send_digests", stdout=out)
    call_command("send_digests", stdout=out)
    assert "mailed 1 digests, 1 members had nothing new" in out.getvalue()
    assert "mailed 0 digests, 0 members had nothing new" in out.getvalue()
    assert len(_digests_to(member)) == 1 and not _digests_to(quiet)


def test_weekly_digests_wait_a_week_and_then_hold_the_whole_week():
    member = _member_following("python")
    Digest.objects.filter(user=member).update(frequency="weekly")
    QuestionFactory(title="Asked on the first day", tags=[TagFactory(name="python")])
    assert digests.digests_send(now=timezone.now() + TOMORROW)["mailed"] == 0
    week = digests.digests_send(now=timezone.now() + timedelta(days=7))
    assert week["mailed"] == 1 and "Asked on the first day" in _digests_to(member)[0].message


def test_a_crash_mid_run_then_a_rerun_sends_every_digest_exactly_once(monkeypatch):
    members = [_member_following("python") for _ in range(5)]
    QuestionFactory(tags=[TagFactory(name="python")])
    real_mail, calls = digests._mail, []

    def crashing(user, found, frequency):
        calls.append(user.pk)
        if len(calls) == 3:
            raise RuntimeError("the host died here")
        real_mail(user, found, frequency)

    monkeypatch.setattr(digests, "_mail", crashing)
    later = timezone.now() + TOMORROW
    with pytest.raises(RuntimeError):
        digests.digests_send(now=later)
    assert Email.objects.count() == 2, "the third member's mail rolled back with its watermark"
    monkeypatch.setattr(digests, "_mail", real_mail)
    assert digests.digests_send(now=later)["mailed"] == 3
    assert sorted(len(_digests_to(m)) for m in members) == [1] * 5


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_two_runs_at_once_send_each_digest_once():
    members = [_member_following("python") for _ in range(30)]
    QuestionFactory(tags=[TagFactory(name="python")])
    later, start, results = timezone.now() + TOMORROW, threading.Barrier(2), []

    def run():
        try:
            start.wait()
            results.append(digests.digests_send(now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result["mailed"] for result in results) == 30
    assert sorted(len(_digests_to(m)) for m in members) == [1] * 30


def test_unsubscribing_takes_one_click_from_the_mail_and_a_link_checker_changes_nothing():
    member = _member_following("python")
    token = digests.unsubscribe_token(member)
    url = f"/digest/unsubscribe/{token}/"
    assert "Unsubscribe" in Client().get(url).content.decode()
    assert Digest.objects.get(user=member).frequency == "daily", "opening the link is not unsubscribing"
    one_click = Client(enforce_csrf_checks=True).post(url, "List-Unsubscribe=One-Click",
                                                      content_type="application/x-www-form-urlencoded")
    assert one_click.status_code == 200 and "no more digests" in one_click.content.decode()
    assert Digest.objects.get(user=member).frequency == "off"
    assert Client().post(f"/digest/unsubscribe/{token[:-3]}xyz/").status_code == 404
    QuestionFactory(tags=[TagFactory(name="python")])
    assert digests.digests_send(now=timezone.now() + TOMORROW)["mailed"] == 0


def test_members_follow_and_unfollow_tags_and_questions_and_choose_their_digest():
    member = UserFactory()
    client = Client()
    client.force_login(member)
    TagFactory(name="python")
    question = QuestionFactory()
    assert "Follow “python”" in client.get("/tag/python/").content.decode()
    client.post("/tag/python/follow/", {"follow": "1"})
    assert "Unfollow “python”" in client.get("/tag/python/").content.decode()
    client.post(f"/q/{question.pk}/follow/", {"follow": "1"})
    digests.question_follow(user=UserFactory(), question=question, follow=True)  # another member's follow
    assert "Unfollow this question" in client.get(f"/q/{question.pk}/").content.decode()
    settings_page = client.get("/digest/").content.decode()
    assert "/tag/python/" in settings_page
    assert settings_page.count(f'<a href="/q/{question.pk}/">{question.title}</a>') == 1
    client.post(f"/q/{question.pk}/follow/", {"follow": "0", "back": "settings"})
    assert f'href="/q/{question.pk}/"' not in client.get("/digest/").content.decode()
    assert client.post("/digest/", {"frequency": "sometimes"}).status_code == 400
    client.post("/digest/", {"frequency": "weekly"})
    assert Digest.objects.get(user=member).frequency == "weekly"
    client.post("/tag/python/follow/", {"follow": "0"})
    assert "Follow “python”" in client.get("/tag/python/").content.decode()
    assert Client().post("/tag/python/follow/").status_code == 302  # to the log-in page
