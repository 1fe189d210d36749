"""Sign-up, activation, resend and profile settings: the account workflows, each in one transaction."""
import logging
import re
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.cache_keys import activation_key
from accounts.models import ActivationKey, User
from ask.core.outbox import mail_queue
from ask.core.tokens import token_hash, token_new

logger = logging.getLogger(__name__)

KEY_FORMAT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_new()

ActivationUrl = Callable[[str], str]  # key -> absolute link for the mail


class ActivationError(Exception):
    """Why a key did not activate: malformed, unknown, used, replaced, expired or deactivated."""

    def __init__(self, reason: str, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


def user_sign_up(*, email: str, display_name: str, password: str, activation_url: ActivationUrl) -> User:
    """Create an inactive user and queue the activation mail; nothing of either if one fails."""
    with transaction.atomic():
        user = User.objects.create_user(email=email, display_name=display_name, password=password, is_active=False)
        _activation_mail_queue(user, activation_url(_key_issue(user)))
    logger.info("sign-up of user %s", user.pk)
    return user


def activation_resend(*, email: str, activation_url: ActivationUrl) -> None:
    """Replace the pending key of a never-activated account and mail the new one.

    Does nothing, silently, for any other address: the caller answers the same either way.
    """
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(email__iexact=email.strip(), is_active=False, activated_at=None)
            .first()
        )
        if user is None:
            return
        _activation_mail_queue(user, activation_url(_key_issue(user)))


def account_activate(*, key: str) -> User:
    """Activate the account the key was mailed for; raises ActivationError saying why not.

    The cache maps the key to its user so a hit goes straight to that user's keys; the database
    stays the authority, so a replaced or used key never works, whatever the cache holds.
    """
    if not KEY_FORMAT.match(key):
        raise ActivationError("malformed")
    key_hash = token_hash(key)
    user_id = cache.get(activation_key(key_hash))
    now = timezone.now()
    with transaction.atomic():
        keys = ActivationKey.objects.select_for_update().select_related("user")
        record = keys.filter(user_id=user_id, key_hash=key_hash).first() if user_id else None
        record = record or keys.filter(key_hash=key_hash).first()
        if record is None:
            raise ActivationError("unknown")
        user = record.user
        if record.used_at:
            raise ActivationError("used", user)
        if record.replaced_at:
            raise ActivationError("replaced", user)
        if record.expires_at <= now:
            raise ActivationError("expired", user)
        if user.activated_at is not None and not user.is_active:
            raise ActivationError("deactivated", user)  # an admin switched it off; a key must not undo that
        user.is_active, user.activated_at = True, now
        user.save(update_fields=["is_active", "activated_at"])
        record.used_at = now
        record.save(update_fields=["used_at"])
        transaction.on_commit(lambda: cache.delete(activation_key(key_hash)))
    logger.info("activation of user %s", user.pk)
    return user


def _key_issue(user: User) -> str:
    """A new key for the user; the user's earlier keys stop working."""
    now = timezone.now()
    lifetime = timedelta(days=settings.ACCOUNT_ACTIVATION_DAYS)
    pending = ActivationKey.objects.filter(user=user, used_at=None, replaced_at=None)
    old_hashes = list(pending.values_list("key_hash", flat=True))
    pending.update(replaced_at=now)
    key = token_new()
    record = ActivationKey.objects.create(user=user, key_hash=token_hash(key), created_at=now,
                                          expires_at=now + lifetime)

    def cache_it() -> None:
        cache.delete_many([activation_key(h) for h in old_hashes])
        cache.set(activation_key(record.key_hash), user.pk, timeout=int(lifetime.total_seconds()))

    transaction.on_commit(cache_it)
    return key


def _activation_mail_queue(user: User, url: str) -> None:
    context = {"user": user, "url": url, "days": settings.ACCOUNT_ACTIVATION_DAYS}
    mail_queue(
        to=user.email,
        subject=render_to_string("accounts/email/activation_subject.txt", context).strip(),
        body=render_to_string("accounts/email/activation.txt", context),
    )


def profile_update(*, user: User, display_name: str, email: str, avatar=None, clear_avatar: bool = False) -> User:
    user.display_name, user.email = display_name.strip(), email.strip().lower()
    fields = ["display_name", "email"]
    if avatar:
        user.avatar = avatar
        fields.append("avatar")
    elif clear_avatar:
        user.avatar = None
        fields.append("avatar")
    user.save(update_fields=fields)
    return user
