"""Log-in throttling (django-axes): per account, whatever its spelling, and per client; it ends by itself."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, username: str, password: str, ip: str = "10.0.0.1", url: str = "/accounts/login/") -> int:
    field = {"username": username, "password": password}
    return client.post(url, field, REMOTE_ADDR=ip).status_code


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(client, settings):
    UserFactory(email="ada@example.com", display_name="Ada")
    spellings = ["ada@example.com", "ADA@example.com", "Ada", "ada", " ada@Example.com"]
    assert [log_in(client, name, "wrong") for name in spellings] == [200] * 4 + [429], "every spelling is one account"
    refused = client.post("/accounts/login/", {"username": "ada@example.com", "password": "secret-pass-1"},
                          REMOTE_ADDR="10.0.0.2")
    assert refused.status_code == 429 and "Try again in 15 minutes" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "ada@example.com", "secret-pass-1", ip="10.0.0.2") == 302, "the lock-out ended by itself"


def test_one_client_trying_many_accounts_is_refused_and_others_are_not(client):
    UserFactory(email="bob@example.com")
    assert [log_in(client, f"nobody{n}@example.com", "wrong", ip="10.6.6.6") for n in range(5)] == [200] * 4 + [429]
    assert log_in(client, "bob@example.com", "secret-pass-1", ip="10.6.6.6") == 429
    assert log_in(client, "bob@example.com", "secret-pass-1", ip="10.1.1.1") == 302, "another client logs in"


def test_the_admin_log_in_is_throttled_too(client):
    UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    assert [log_in(client, "root@example.com", "wrong", url="/admin/login/") for _ in range(5)] == [200] * 4 + [429]
    assert log_in(client, "root@example.com", "secret-pass-1", ip="10.0.0.9", url="/admin/login/") == 429


def test_behind_the_proxy_the_real_client_is_counted_not_the_proxy(client, settings):
    settings.ASK_TRUSTED_PROXIES = 1
    for n in range(5):
        client.post("/accounts/login/", {"username": f"x{n}@example.com", "password": "wrong"},
                    REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.4, 10.0.0.{n}")
    UserFactory(email="carol@example.com")
    ok = client.post("/accounts/login/", {"username": "carol@example.com", "password": "secret-pass-1"},
                     REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.77")
    assert ok.status_code == 302, "five clients behind one proxy, each counted alone; the forged 1.2.3.4 ignored"


def test_the_resend_limit_per_client_counts_the_real_client_behind_the_proxy(client, settings):
    settings.ASK_TRUSTED_PROXIES = 1
    settings.ACCOUNTS_RESEND_RATE_PER_CLIENT = "2/h"

    def resend(email: str, forwarded: str) -> int:
        return client.post("/accounts/activate/resend/", {"email": email}, REMOTE_ADDR="127.0.0.1",
                           HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert [resend(f"a{n}@example.com", f"10.0.0.{n}") for n in range(4)] == [302] * 4, "four clients, one proxy"
    assert [resend(f"b{n}@example.com", f"{n}.6.6.6, 10.9.9.9") for n in range(3)] == [302, 302, 429], \
        "one client, whatever it puts in front of its address"
