"""Security findings 7, 10 and 18 (reset): one-time links leave the outbox once sent, reset works for
imported members, and what queues mail for somebody else is rate limited."""
import re
from io import StringIO

import pytest
from django.core.management import call_command
from post_office.models import STATUS, Email

from accounts.models import User
from ask.core.outbox import REDACTED, mail_queue
from ask.jobs.runner import JobFailed
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

RESET_LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")
ACTIVATION_LINK = re.compile(r"http://testserver(/accounts/activate/[A-Za-z0-9_-]+/)")


def deliver() -> None:
    call_command("send_queued_mail", stdout=StringIO())


def delivered_link(smtp, pattern) -> str:
    (body,) = smtp.bodies()
    return pattern.search(body.replace("=\n", "")).group(1)


def test_activation_and_reset_links_are_redacted_from_the_outbox_once_sent(client, smtp):
    smtp.start()
    client.post("/accounts/signup/", {"email": "ada@example.com", "display_name": "Ada",
                                      "password1": "correct horse battery", "password2": "correct horse battery"})
    UserFactory(email="bob@example.com")
    client.post("/accounts/password_reset/", {"email": "bob@example.com"})
    queued = {e.to[0]: e.message for e in Email.objects.all()}
    assert ACTIVATION_LINK.search(queued["ada@example.com"]) and RESET_LINK.search(queued["bob@example.com"])
    deliver()
    assert len(smtp.messages) == 2, "the members got their links"
    assert all(ACTIVATION_LINK.search(b.replace("=\n", "")) or RESET_LINK.search(b.replace("=\n", ""))
               for b in smtp.bodies())
    for email in Email.objects.all():
        assert email.status == STATUS.sent and email.message == REDACTED and email.html_message == ""
        assert "/accounts/" not in email.message


def test_a_given_up_one_time_link_is_redacted_and_ordinary_mail_is_kept(client, smtp, settings):
    settings.MAIL_MAX_TRIES = 1
    settings.POST_OFFICE = {**settings.POST_OFFICE, "MAX_RETRIES": 0}
    UserFactory(email="bob@example.com")
    client.post("/accounts/password_reset/", {"email": "bob@example.com"})
    mail_queue(to="carol@example.com", subject="Your order", body="On its way.")
    with pytest.raises(JobFailed, match="2 mail"):
        deliver()  # the SMTP server is not started: both fail for good
    reset, order = Email.objects.get(to=["bob@example.com"]), Email.objects.get(to=["carol@example.com"])
    assert reset.status == order.status == STATUS.failed
    assert reset.message == REDACTED and order.message == "On its way."


def test_an_imported_member_without_a_password_sets_one_by_a_reset(client, smtp):
    """import_data creates members with an unusable password; Django's reset form skips those."""
    smtp.start()
    member = User.objects.create_user("imported@example.com", "Imported", password=None)
    assert not member.has_usable_password()
    assert client.post("/accounts/password_reset/", {"email": "Imported@Example.com"}).status_code == 302
    deliver()
    link = delivered_link(smtp, RESET_LINK)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "/set-password/" in form_page.redirect_chain[-1][0]
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": "a fresh long pass", "new_password2": "a fresh long pass"})
    assert done.status_code == 302
    logged_in = client.post("/accounts/login/", {"username": "imported@example.com", "password": "a fresh long pass"})
    assert logged_in.status_code == 302 and client.get("/settings/").status_code == 200


def test_a_deactivated_member_gets_no_reset_link(client, smtp):
    UserFactory(email="gone@example.com", is_active=False)
    assert client.post("/accounts/password_reset/", {"email": "gone@example.com"}).status_code == 302
    assert not Email.objects.exists()


def test_password_reset_is_rate_limited_per_address_and_per_client(client, settings):
    settings.ACCOUNTS_RESET_RATE_PER_ADDRESS = "2/h"
    settings.ACCOUNTS_RESET_RATE_PER_CLIENT = "4/h"
    UserFactory(email="ada@example.com")

    def reset(email: str, ip: str) -> int:
        return client.post("/accounts/password_reset/", {"email": email}, REMOTE_ADDR=ip).status_code

    assert [reset(e, f"10.0.0.{n}") for n, e in enumerate(["ada@example.com", "ADA@example.com",
                                                           "ada@example.com"])] == [302, 302, 429]
    assert Email.objects.filter(to=["ada@example.com"]).count() == 2, "twelve asks no longer queue twelve mails"
    assert [reset(f"x{n}@example.com", "10.9.9.9") for n in range(5)] == [302, 302, 302, 302, 429]
    limited = client.post("/accounts/password_reset/", {"email": "nobody@example.com"}, REMOTE_ADDR="10.9.9.9")
    assert limited.status_code == 429 and "password reset link" in limited.content.decode()


def test_sign_up_is_rate_limited_per_client(client, settings):
    settings.ACCOUNTS_SIGN_UP_RATE_PER_CLIENT = "3/h"

    def sign_up(n: int, ip: str) -> int:
        return client.post("/accounts/signup/", {
            "email": f"u{n}@example.com", "display_name": f"User {n}",
            "password1": "correct horse battery", "password2": "correct horse battery"}, REMOTE_ADDR=ip).status_code

    assert [sign_up(n, "10.0.0.1") for n in range(4)] == [302, 302, 302, 429]
    assert User.objects.count() == 3 and Email.objects.count() == 3
    assert sign_up(9, "10.0.0.2") == 302, "another client signs up"


def test_sign_up_is_rate_limited_per_address(client, settings):
    settings.ACCOUNTS_SIGN_UP_RATE_PER_ADDRESS = "2/h"

    def sign_up(ip: str) -> int:
        return client.post("/accounts/signup/", {
            "email": "ada@example.com", "display_name": "Ada",
            "password1": "correct horse battery", "password2": "correct horse battery"}, REMOTE_ADDR=ip).status_code

    assert [sign_up(f"10.0.0.{n}") for n in range(3)] == [302, 302, 429]
    assert Email.objects.filter(to=["ada@example.com"]).count() == 2


def test_answers_are_rate_limited_per_member_and_per_client(client, settings):
    settings.QA_ANSWER_RATE_PER_MEMBER = "3/h"
    settings.QA_ANSWER_RATE_PER_CLIENT = "5/h"
    question = QuestionFactory()
    crawler, first, second = UserFactory(), UserFactory(), UserFactory()

    def answer(user, ip: str) -> int:
        client.force_login(user)
        return client.post(f"/q/{question.pk}/answer/", {"text": "Me too, the same here."}, REMOTE_ADDR=ip).status_code

    assert [answer(crawler, f"10.0.0.{n}") for n in range(4)] == [302, 302, 302, 429], "the member's limit"
    assert [answer(first, "10.0.0.7") for _ in range(3)] == [302, 302, 302]
    assert [answer(second, "10.0.0.7") for _ in range(3)] == [302, 302, 429], "the client's limit: 5 an hour"
    assert question.answers.count() == 8
    assert Email.objects.filter(to=[question.author.email]).count() == 8
