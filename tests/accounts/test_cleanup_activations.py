"""cleanup_activations deletes exactly the abandoned sign-ups, and never anything else."""
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from accounts.models import ActivationKey, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GRACE = timedelta(days=7)  # ACCOUNTS_CLEANUP_GRACE_DAYS
LIFETIME = timedelta(days=7)  # ACCOUNT_ACTIVATION_DAYS


def sign_up_at(expired_ago: timedelta, **fields) -> User:
    """An account that signed up and got one key which expired `expired_ago` before now."""
    expires = timezone.now() - expired_ago
    user = UserFactory(**{"is_active": False, "date_joined": expires - LIFETIME, **fields})
    ActivationKey.objects.create(user=user, key_hash=f"{user.pk:064d}", created_at=expires - LIFETIME,
                                 expires_at=expires)
    return user


def cleanup(*args) -> str:
    out = StringIO()
    call_command("cleanup_activations", *args, stdout=out)
    return out.getvalue()


def test_deletes_an_abandoned_sign_up_only_once_its_key_expired_more_than_the_grace_period_ago():
    gone = sign_up_at(GRACE + timedelta(seconds=5))
    kept = sign_up_at(GRACE - timedelta(seconds=5))
    assert "deleted 1 abandoned sign-ups" in cleanup()
    assert list(User.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not ActivationKey.objects.filter(user_id=gone.pk).exists()


def test_never_deletes_an_active_admin_deactivated_logged_in_staff_or_grouped_account():
    long_ago = GRACE + timedelta(days=30)
    keep = [
        sign_up_at(long_ago, is_active=True, activated_at=timezone.now()),  # active
        sign_up_at(long_ago, activated_at=timezone.now() - timedelta(days=20)),  # deactivated by an admin
        sign_up_at(long_ago, last_login=timezone.now() - timedelta(days=40)),  # logged in once
        sign_up_at(long_ago, is_staff=True),
        sign_up_at(long_ago, is_superuser=True),
        UserFactory(is_active=False, date_joined=timezone.now() - timedelta(days=90)),  # made by an admin, no key
    ]
    grouped = sign_up_at(long_ago)
    grouped.groups.add(Group.objects.create(name="editors"))
    keep.append(grouped)
    abandoned = sign_up_at(long_ago)
    cleanup()
    assert set(User.objects.values_list("pk", flat=True)) == {u.pk for u in keep}
    assert not User.objects.filter(pk=abandoned.pk).exists()


def test_never_deletes_an_account_that_anything_refers_to():
    with_content = sign_up_at(GRACE + timedelta(days=1))
    LogEntry.objects.create(user=with_content, action_flag=ADDITION, object_repr="x")
    cleanup()
    assert User.objects.filter(pk=with_content.pk).exists()


def test_a_resent_key_still_valid_keeps_the_account():
    user = sign_up_at(GRACE + timedelta(days=3))
    ActivationKey.objects.create(user=user, key_hash="f" * 64, expires_at=timezone.now() + timedelta(days=1))
    cleanup()
    assert User.objects.filter(pk=user.pk).exists()


def test_expired_keys_of_remaining_accounts_are_deleted_too():
    active = sign_up_at(GRACE + timedelta(days=1), is_active=True, activated_at=timezone.now())
    out = cleanup()
    assert "and 1 expired keys" in out
    assert User.objects.filter(pk=active.pk).exists() and not ActivationKey.objects.exists()


def test_dry_run_lists_what_it_would_delete_and_deletes_nothing():
    user = sign_up_at(GRACE + timedelta(days=1), email="gone@example.com")
    out = cleanup("--dry-run")
    assert f"would delete user {user.pk} <gone@example.com>" in out
    assert "would delete 1 abandoned sign-ups and 1 expired keys" in out
    assert User.objects.count() == 1 and ActivationKey.objects.count() == 1


def test_every_deleted_id_is_logged(caplog):
    users = [sign_up_at(GRACE + timedelta(days=1)) for _ in range(5)]
    with caplog.at_level(logging.INFO, logger="accounts.cleanup"):
        cleanup("--batch-size", "2")
    logged = ",".join(r.getMessage().rsplit(" ", 1)[1] for r in caplog.records if "deleted abandoned" in r.getMessage())
    assert sorted(map(int, logged.split(","))) == sorted(u.pk for u in users)
