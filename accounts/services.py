"""Sign-up, activation, resend and profile settings: the account workflows, each in one transaction
(the e-mail address has accounts.email_change)."""
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.avatars import avatar_file, avatar_forget
from accounts.cache_keys import activation_key
from accounts.models import ActivationKey, User
from accounts.selectors import pending_sign_ups
from ask.core.outbox import mail_queue
from ask.core.tokens import token_hash, token_new

logger = logging.getLogger(__name__)

KEY_FORMAT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_new()

ActivationUrl = Callable[[str], str]  # key -> absolute link for the mail


class ActivationError(Exception):
    """Why a key did not activate: malformed, unknown, used, replaced, expired, deactivated, or
    "password needed" (activation outside the signing-up browser without a new password)."""

    def __init__(self, reason: str, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


@dataclass
class SignUp:
    user: User
    key_hash: str  # of the key just mailed; the signing-up browser's session keeps it (see account_activate)


def user_sign_up(*, email: str, display_name: str, password: str, activation_url: ActivationUrl) -> SignUp:
    """Create an inactive user and queue the activation mail; nothing of either if one fails.

    A pending sign-up of the same address (never activated) is replaced: its name and password give
    way to this one's and its keys stop working, so whoever signed up first with somebody else's
    address holds nothing once the owner signs up.
    """
    with transaction.atomic():
        user = pending_sign_ups(email).select_for_update().first()
        if user is None:
            user = User.objects.create_user(email=email, display_name=display_name, password=password,
                                            is_active=False)
        else:
            user.display_name, user.date_joined = display_name, timezone.now()
            user.set_password(password)
            user.save(update_fields=["display_name", "date_joined", "password"])
        key = _key_issue(user)
        _activation_mail_queue(user, activation_url(key))
    logger.info("sign-up of user %s", user.pk)
    return SignUp(user=user, key_hash=token_hash(key))


def activation_resend(*, email: str, activation_url: ActivationUrl) -> None:
    """Replace the pending key of a never-activated account and mail the new one.

    Does nothing, silently, for any other address: the caller answers the same either way.
    """
    with transaction.atomic():
        user = pending_sign_ups(email).select_for_update().first()
        if user is None:
            return
        _activation_mail_queue(user, activation_url(_key_issue(user)))


def activation_pending(*, key: str) -> User:
    """The user a still-valid key would activate; raises ActivationError saying why there is none."""
    return _usable_key(key, lock=False).user


def password_kept(*, key: str, signed_up_key_hash: str | None) -> bool:
    """Whether the sign-up's password may stay: only when the key is activated in the browser that
    signed up (its session holds the key's hash). Anywhere else (another device, a resend, a link
    somebody else's sign-up triggered) the password was chosen by whoever signed up, who need not own
    the address, so activation asks for a new one."""
    return bool(signed_up_key_hash) and KEY_FORMAT.match(key) is not None and token_hash(key) == signed_up_key_hash


def account_activate(*, key: str, signed_up_key_hash: str | None = None, new_password: str | None = None) -> User:
    """Activate the account the key was mailed for; raises ActivationError saying why not.

    Unless password_kept(), new_password is required and replaces the sign-up's password.
    """
    keep = password_kept(key=key, signed_up_key_hash=signed_up_key_hash)
    if not keep and not new_password:
        raise ActivationError("password needed")
    now = timezone.now()
    with transaction.atomic():
        record = _usable_key(key, lock=True)
        user = record.user
        user.is_active, user.activated_at = True, now
        fields = ["is_active", "activated_at"]
        if not keep:
            user.set_password(new_password)
            fields.append("password")
        user.save(update_fields=fields)
        record.used_at = now
        record.save(update_fields=["used_at"])
        key_hash = record.key_hash
        transaction.on_commit(lambda: cache.delete(activation_key(key_hash)))
    logger.info("activation of user %s (password %s)", user.pk, "kept" if keep else "set at activation")
    return user


def _usable_key(key: str, *, lock: bool) -> ActivationKey:
    """The key's record if it may activate now, else ActivationError with the reason.

    The cache maps the key to its user so a hit goes straight to that user's keys; the database
    stays the authority, so a replaced or used key never works, whatever the cache holds.
    """
    if not KEY_FORMAT.match(key):
        raise ActivationError("malformed")
    key_hash = token_hash(key)
    user_id = cache.get(activation_key(key_hash))
    keys = ActivationKey.objects.select_related("user")
    if lock:
        keys = keys.select_for_update()
    record = keys.filter(user_id=user_id, key_hash=key_hash).first() if isinstance(user_id, int) else None
    record = record or keys.filter(key_hash=key_hash).first()
    if record is None:
        raise ActivationError("unknown")
    user = record.user
    if record.used_at:
        raise ActivationError("used", user)
    if record.replaced_at:
        raise ActivationError("replaced", user)
    if record.expires_at <= timezone.now():
        raise ActivationError("expired", user)
    if user.activated_at is not None and not user.is_active:
        raise ActivationError("deactivated", user)  # an admin switched it off; a key must not undo that
    return record


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
        one_time_link=True,
    )


def profile_update(*, user: User, display_name: str, avatar=None, clear_avatar: bool = False,
                   time_zone: str | None = None) -> User:
    """Save the display name, the time zone and the avatar (re-encoded, under a new random name; the
    old file goes)."""
    user.display_name = display_name.strip()
    fields = ["display_name"]
    if time_zone is not None:
        user.time_zone = time_zone
        fields.append("time_zone")
    written = ""
    try:
        with transaction.atomic():
            # From the row: a ModelForm's validation already put the upload on the instance.
            old_avatar = User.objects.filter(pk=user.pk).values_list("avatar", flat=True).first() or ""
            if avatar:
                encoded = avatar_file(avatar)
                user.avatar.save(encoded.name, encoded, save=False)
                written = user.avatar.name
                fields.append("avatar")
            elif clear_avatar:
                user.avatar = None
                fields.append("avatar")
            user.save(update_fields=fields)
            if "avatar" in fields:
                avatar_forget(old_avatar)
    except Exception:
        if written:  # the row never pointed at the new file (a lock timeout, say): no orphan left public
            default_storage.delete(written)
        raise
    return user
