"""Sign-up, the activation mail, activation and its failure cases, resend, log-in."""
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from post_office.models import Email

from accounts.cache_keys import activation_key
from accounts.models import ActivationKey, User
from ask.core.tokens import token_hash
from tests.ask.core.test_health import memcached_cache
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/accounts/activate/[A-Za-z0-9_-]+/)")


@pytest.fixture
def sign_up(client, django_capture_on_commit_callbacks):
    """Post the sign-up form; on-commit work (caching the key) runs as after a real commit."""

    def post(email="ada@example.com", display_name="Ada", password="correct horse battery"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/accounts/signup/", {
                "email": email, "display_name": display_name, "password1": password, "password2": password,
            })

    return post


def activate(client, link: str, password: str | None = None):
    """Open the mailed link, then confirm on the page it leads to (a POST, with a new password if given)."""
    opened = client.get(link)
    if opened.status_code != 302:
        return opened
    assert opened["Location"] == "/accounts/activate/" and "/activate/" + link.split("/")[-2] not in opened["Location"]
    fields = {"new_password1": password, "new_password2": password} if password else {}
    return client.post("/accounts/activate/", fields)


def queued_links(to: str) -> list[str]:
    return [LINK.search(e.message).group(1) for e in Email.objects.filter(to=[to]).order_by("pk")]


def test_sign_up_creates_an_inactive_user_a_hashed_key_and_a_queued_mail(client, sign_up):
    response = sign_up()
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    user = User.objects.get(email="ada@example.com")
    assert not user.is_active and user.activated_at is None and user.check_password("correct horse battery")
    (link,) = queued_links("ada@example.com")
    key = link.split("/")[-2]
    record = ActivationKey.objects.get(user=user)
    assert record.key_hash == token_hash(key) and key not in record.key_hash
    assert timedelta(days=6, hours=23) < record.expires_at - timezone.now() <= timedelta(days=7)
    assert cache.get(activation_key(record.key_hash)) == user.pk
    assert "ada@example.com" in client.get(response["Location"]).content.decode()


def test_the_whole_flow_from_sign_up_to_logged_in(client, smtp, sign_up):
    smtp.start()
    sign_up()
    call_command("send_queued_mail", stdout=StringIO())
    (body,) = smtp.bodies()
    link = LINK.search(body.replace("=\n", "")).group(1)
    assert activate(client, link).status_code == 302
    response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.user.email == "ada@example.com"
    assert "your account is active" in response.content.decode()
    user = User.objects.get(email="ada@example.com")
    assert user.is_active and user.activated_at is not None


@pytest.mark.parametrize("bad", [
    {"email": "not-an-address"}, {"display_name": ""}, {"password": "123"}, {"password": "password"},
])
def test_bad_sign_ups_are_refused_with_the_field_named(client, bad, sign_up):
    fields = {"email": "ada@example.com", "display_name": "Ada", "password": "correct horse battery", **bad}
    response = sign_up(**fields)
    assert response.status_code == 200 and response.context["form"].errors
    assert not User.objects.exists() and not Email.objects.exists()


def test_e_mail_and_display_name_are_unique_whatever_their_case(client, sign_up):
    UserFactory(email="ada@example.com", display_name="Ada")
    errors = sign_up(email="ADA@example.com", display_name="other").context["form"].errors
    assert errors["email"] == ["An account with this e-mail address exists already."]
    errors = sign_up(email="new@example.com", display_name="ADA").context["form"].errors
    assert "This display name is taken." in str(errors)


def test_an_activation_link_works_once(client, sign_up):
    sign_up()
    (link,) = queued_links("ada@example.com")
    assert activate(client, link).status_code == 302
    client.logout()
    again = activate(client, link)
    assert again.status_code == 410 and "This link was used already" in again.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("key,status,text", [
    ("short", 400, "This activation link is incomplete"),
    ("A" * 43, 404, "This activation link is not known"),
])
def test_malformed_and_unknown_keys_get_a_clear_page_offering_resend(client, key, status, text):
    response = client.get(f"/accounts/activate/{key}/", follow=True)
    assert response.status_code == status
    html = response.content.decode()
    assert text in html and 'href="/accounts/activate/resend/"' in html


def test_an_expired_key_is_refused_right_at_its_expiry(client, sign_up):
    sign_up()
    (link,) = queued_links("ada@example.com")
    ActivationKey.objects.update(expires_at=timezone.now() - timedelta(microseconds=1))
    response = activate(client, link)
    assert response.status_code == 410 and "has expired" in response.content.decode()
    assert not User.objects.get().is_active


def test_resend_replaces_the_key_and_the_old_link_stops_working(client, sign_up):
    sign_up()
    (old,) = queued_links("ada@example.com")
    assert client.post("/accounts/activate/resend/", {"email": "Ada@Example.com"}).status_code == 302
    first, new = queued_links("ada@example.com")
    assert first == old and new != old
    response = activate(client, old)
    assert response.status_code == 410 and "A newer activation link was sent" in response.content.decode()
    assert activate(client, new, password="a new pass 4 ada").status_code == 302, "a resent key asks for one"
    assert User.objects.get().is_active


def test_resend_answers_the_same_whether_or_not_the_address_has_an_account(client, sign_up):
    sign_up()
    UserFactory(email="active@example.com")
    answers = [client.post("/accounts/activate/resend/", {"email": e}, follow=True).content.decode()
               for e in ("ada@example.com", "nobody@example.com", "active@example.com")]
    assert answers[0] == answers[1] == answers[2]
    assert Email.objects.filter(to=["nobody@example.com"]).count() == 0
    assert Email.objects.filter(to=["active@example.com"]).count() == 0, "an active account gets no key"


def test_resend_is_rate_limited_per_address_and_per_client(client, settings):
    settings.ACCOUNTS_RESEND_RATE_PER_ADDRESS = "2/h"
    settings.ACCOUNTS_RESEND_RATE_PER_CLIENT = "4/h"
    def resend(email: str, client_ip: str) -> int:
        return client.post("/accounts/activate/resend/", {"email": email}, REMOTE_ADDR=client_ip).status_code

    # One address from three clients: its own limit (2 an hour), whatever the case of the address.
    emails = ["ada@example.com", "ADA@example.com", "ada@example.com"]
    assert [resend(e, f"10.0.0.{n}") for n, e in enumerate(emails)] == [302, 302, 429]
    # One client asking for five addresses: the client's limit (4 an hour).
    assert [resend(f"x{n}@example.com", "10.9.9.9") for n in range(5)] == [302, 302, 302, 302, 429]
    assert resend("y@example.com", "10.1.2.3") == 302, "other clients and addresses are not affected"


def test_activation_works_with_memcached_stopped(client, settings, memcached, sign_up):
    settings.CACHES = memcached_cache(memcached.location)
    sign_up()
    (link,) = queued_links("ada@example.com")
    memcached.stop()
    assert activate(client, link).status_code == 302
    assert User.objects.get().is_active


def test_activation_works_from_the_database_when_the_cache_lost_the_key(client, sign_up):
    sign_up()
    (link,) = queued_links("ada@example.com")
    cache.clear()
    assert activate(client, link).status_code == 302


def test_a_key_cannot_reactivate_an_account_an_admin_deactivated(client, sign_up):
    sign_up()
    (link,) = queued_links("ada@example.com")
    User.objects.update(activated_at=timezone.now(), is_active=False)
    response = activate(client, link)
    assert response.status_code == 403 and not User.objects.get().is_active


@pytest.mark.parametrize("login_as", ["ada@example.com", "ADA@example.com", "Ada", "ada"])
def test_log_in_by_e_mail_or_display_name(client, login_as):
    UserFactory(email="ada@example.com", display_name="Ada")
    response = client.post("/accounts/login/", {"username": login_as, "password": "secret-pass-1"})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_a_user_who_did_not_activate_is_told_to_with_a_resend_link(client, sign_up):
    sign_up()
    response = client.post("/accounts/login/", {"username": "ada@example.com", "password": "correct horse battery"})
    html = response.content.decode()
    assert "not activated yet" in html and 'href="/accounts/activate/resend/"' in html
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_for_an_inactive_user_says_nothing_about_activation(client, sign_up):
    sign_up()
    html = client.post("/accounts/login/", {"username": "ada@example.com", "password": "wrong"}).content.decode()
    assert "not activated" not in html and "No account matches that e-mail or display name" in html


def test_a_deactivated_account_is_named_so_only_after_its_right_password(client):
    UserFactory(email="gone@example.com", is_active=False, activated_at=timezone.now())
    wrong = client.post("/accounts/login/", {"username": "gone@example.com", "password": "wrong"}).content.decode()
    assert "deactivated" not in wrong and "No account matches that e-mail or display name" in wrong
    right = client.post("/accounts/login/", {"username": "gone@example.com", "password": "secret-pass-1"})
    assert "This account has been deactivated." in right.content.decode() and "_auth_user_id" not in client.session


def test_a_deactivated_users_session_ends(client):
    user = UserFactory(display_name="Ada")
    client.force_login(user)
    assert "Ada" in client.get("/").content.decode()
    User.objects.filter(pk=user.pk).update(is_active=False, activated_at=timezone.now())
    assert "Log in" in client.get("/").content.decode()


def test_password_reset_mail_goes_through_the_outbox(client, settings):
    settings.EMAIL_BACKEND = "post_office.EmailBackend"
    UserFactory(email="ada@example.com")
    response = client.post("/accounts/password_reset/", {"email": "ada@example.com"})
    assert response.status_code == 302
    (email,) = Email.objects.all()
    assert email.subject == "Reset your ask password" and "/accounts/reset/" in email.message


def test_password_change_with_the_sites_pages(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/accounts/password_change/")
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    response = client.post("/accounts/password_change/", {
        "old_password": "secret-pass-1", "new_password1": "a much better pass", "new_password2": "a much better pass",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a much better pass")


# --- Pre-account takeover and log-in CSRF (security findings 2 and 8) ------------------------------

@pytest.fixture
def attacker(django_capture_on_commit_callbacks):
    """Another browser, which signs up with somebody else's address and a password of its choosing."""
    from django.test import Client

    other = Client()
    with django_capture_on_commit_callbacks(execute=True):
        other.post("/accounts/signup/", {"email": "ada@example.com", "display_name": "Mallory",
                                         "password1": "attacker pass 77", "password2": "attacker pass 77"})
    return other


def test_activation_after_a_resend_asks_for_a_new_password_and_the_sign_ups_stops_working(client, attacker):
    assert client.post("/accounts/activate/resend/", {"email": "ada@example.com"}).status_code == 302
    link = queued_links("ada@example.com")[-1]
    client.get(link)
    page = client.get("/accounts/activate/")
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()
    refused = client.post("/accounts/activate/", {})
    assert refused.status_code == 400 and not User.objects.get().is_active, "no activation without a new password"
    assert activate(client, link, password="the owners own pass").status_code == 302
    user = User.objects.get()
    assert user.is_active and user.check_password("the owners own pass")
    assert not user.check_password("attacker pass 77")
    assert attacker.post("/accounts/login/", {"username": "ada@example.com",
                                              "password": "attacker pass 77"}).status_code == 200


def test_the_owners_sign_up_replaces_a_pending_one_and_activates_with_the_owners_password(client, sign_up, attacker):
    (attackers_link,) = queued_links("ada@example.com")
    response = sign_up(display_name="Ada", password="the owners own pass")
    assert response.status_code == 302, "a pending sign-up does not block the owner"
    user = User.objects.get()
    assert user.display_name == "Ada" and not user.check_password("attacker pass 77")
    assert activate(attacker, attackers_link, password="attacker pass 78").status_code == 410, "its key was replaced"
    owners_link = queued_links("ada@example.com")[-1]
    assert activate(client, owners_link).status_code == 302, "the signing-up browser keeps its password"
    user.refresh_from_db()
    assert user.is_active and user.check_password("the owners own pass")


def test_opening_a_link_activates_nobody_and_logs_nobody_in(client, attacker):
    (link,) = queued_links("ada@example.com")
    victim = client
    assert victim.get(link).status_code == 302
    confirm = victim.get("/accounts/activate/")
    assert "ada@example.com" in confirm.content.decode(), "the page says whose account it is"
    assert not User.objects.get().is_active and "_auth_user_id" not in victim.session
    assert victim.get("/accounts/activate/", {"key": link.split("/")[-2]}).status_code == 200
    assert not User.objects.get().is_active, "only a POST activates"


def test_the_confirmation_page_without_an_opened_link_says_what_to_do(client):
    response = client.post("/accounts/activate/")
    assert response.status_code == 400 and "Open the link from the activation e-mail" in response.content.decode()


def test_a_taken_name_or_address_is_said_at_its_field_once_and_the_log_in_error_is_true(client):
    UserFactory(email="ada@example.com", display_name="Ada")
    response = client.post("/accounts/signup/", {"email": "ADA@example.com", "display_name": "ada",
                                                 "password1": "correct horse battery",
                                                 "password2": "correct horse battery"})
    errors = response.context["form"].errors
    assert errors == {"email": ["An account with this e-mail address exists already."],
                      "display_name": ["This display name is taken."]}
    wrong = client.post("/accounts/login/", {"username": "ADA", "password": "not it"}).content.decode()
    assert "The name may be typed in any case; the password must be exact." in wrong
    assert "case-sensitive" not in wrong


def test_activating_in_another_browser_with_empty_passwords_says_each_problem_once(client, sign_up):
    from django.test import Client

    sign_up()
    (link,) = queued_links("ada@example.com")
    elsewhere = Client()
    confirm = elsewhere.get(link, follow=True)
    assert confirm.status_code == 200 and "new_password1" in confirm.content.decode()
    refused = elsewhere.post(confirm.redirect_chain[-1][0], {"new_password1": "", "new_password2": ""})
    errors = refused.context["form"].errors
    assert errors["new_password1"] == ["This field is required."]
    assert errors["new_password2"] == ["This field is required."]
