"""Cleanup of abandoned sign-ups: accounts never activated whose last key expired long ago.

The rules are deliberately narrow (other registration apps' cleanups have deleted admin-deactivated
users, and once every user): an account is deleted only when ALL of these hold:
- inactive, never activated (activated_at is empty: an admin-deactivated account has it set),
  never logged in, not staff, not superuser, in no group and with no permissions of its own;
- it has activation keys, none used, and the newest expired more than ACCOUNTS_CLEANUP_GRACE_DAYS ago;
- nothing else refers to it (questions, answers, votes, orders, admin log, ...): every relation to
  the user model except activation keys is checked, so a new app's content is covered automatically.
"""
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import ActivationKey, User
from ask.jobs.batches import delete_in_batches

logger = logging.getLogger(__name__)


def grace_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.ACCOUNTS_CLEANUP_GRACE_DAYS)


def abandoned_sign_ups(now: datetime | None = None) -> QuerySet[User]:
    cutoff = grace_cutoff(now)
    keys = ActivationKey.objects.filter(user=OuterRef("pk"))
    users = User.objects.filter(
        is_active=False, activated_at=None, last_login=None, is_staff=False, is_superuser=False,
        date_joined__lt=cutoff - timedelta(days=settings.ACCOUNT_ACTIVATION_DAYS),
    ).filter(
        Exists(keys),
        ~Exists(keys.filter(expires_at__gte=cutoff)),
        ~Exists(keys.filter(used_at__isnull=False)),
        ~Exists(User.groups.through.objects.filter(user=OuterRef("pk"))),
        ~Exists(User.user_permissions.through.objects.filter(user=OuterRef("pk"))),
    )
    for relation in User._meta.related_objects:
        if relation.related_model is ActivationKey or relation.many_to_many:
            continue
        referring = relation.related_model._base_manager.filter(**{relation.field.name: OuterRef("pk")})
        users = users.filter(~Exists(referring))
    return users.order_by("pk")


def expired_keys(now: datetime | None = None) -> QuerySet[ActivationKey]:
    return ActivationKey.objects.filter(expires_at__lt=grace_cutoff(now))


def abandoned_sign_ups_delete(*, batch_size: int, on_batch=None) -> int:
    """Delete abandoned sign-ups in batches, re-checking every rule under a row lock."""
    def done(ids: list[int]) -> None:
        logger.info("deleted abandoned sign-ups, user ids %s", ",".join(map(str, ids)))
        if on_batch:
            on_batch(len(ids))

    return delete_in_batches(abandoned_sign_ups(), batch_size=batch_size, locked=True, on_batch=done)


def expired_keys_delete(*, batch_size: int) -> int:
    return delete_in_batches(expired_keys(), batch_size=batch_size)
