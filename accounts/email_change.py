"""Changing a member's e-mail address: the password to ask, the new address to confirm, the old one told.

The address is the log-in and where reset links go, so whoever holds a session for a moment (a
shared computer, a stolen cookie) must not be able to move the account to a mailbox of theirs. The
request needs the current password; the change happens only through a link mailed to the new
address, opened by the same member logged in; the old address is told; and every other session
ends, since the session hash covers the address (User.get_session_auth_hash).

The link carries a signed token (django.core.signing), not a stored row: user, new address, and a
hash of the account's current address and password hash. It stops working once the address or the
password changes (so it works once), after ACCOUNTS_EMAIL_CHANGE_HOURS, and for any other member.
"""
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac

from accounts.models import User
from ask.core.outbox import mail_queue

SALT = "accounts.email_change"


class EmailChangeError(Exception):
    """Why a confirmation link did not change the address: "invalid", "expired", "used" (the address
    or password changed since), "other_member" (logged in as somebody else), "taken"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PendingChange:
    user_pk: int
    new_email: str


def _state(user: User) -> str:
    return salted_hmac(SALT, f"{user.email}\0{user.password}", algorithm="sha256").hexdigest()[:32]


def email_change_request(*, user: User, new_email: str, confirm_url: Callable[[str], str]) -> None:
    """Mail the confirmation link to the new address (the form checked the password and the address)."""
    token = signing.dumps({"user": user.pk, "email": new_email, "state": _state(user)}, salt=SALT, compress=True)
    context = {"user": user, "new_email": new_email, "url": confirm_url(token),
               "hours": settings.ACCOUNTS_EMAIL_CHANGE_HOURS}
    mail_queue(to=new_email, one_time_link=True,
               subject=render_to_string("accounts/email/email_change_subject.txt", context).strip(),
               body=render_to_string("accounts/email/email_change.txt", context))


def email_change_pending(*, token: str, user: User) -> PendingChange:
    """What the link would do for this logged-in member, or EmailChangeError."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.ACCOUNTS_EMAIL_CHANGE_HOURS * 3600)
    except signing.SignatureExpired:
        raise EmailChangeError("expired") from None
    except signing.BadSignature:
        raise EmailChangeError("invalid") from None
    if not isinstance(data, dict) or set(data) != {"user", "email", "state"}:
        raise EmailChangeError("invalid")
    if data["user"] != user.pk:
        raise EmailChangeError("other_member")
    if data["state"] != _state(user):
        raise EmailChangeError("used")
    return PendingChange(user_pk=user.pk, new_email=data["email"])


def email_change_confirm(*, token: str, user: User) -> User:
    """Change the address, tell the old one; the caller keeps its own session (update_session_auth_hash)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        change = email_change_pending(token=token, user=locked)
        old_email = locked.email
        locked.email = change.new_email
        try:
            with transaction.atomic():
                locked.save(update_fields=["email"])
        except IntegrityError:  # taken since the request: the case-insensitive unique constraint decides
            raise EmailChangeError("taken") from None
        context = {"user": locked, "old_email": old_email, "new_email": change.new_email}
        mail_queue(to=old_email,
                   subject=render_to_string("accounts/email/email_changed_subject.txt", context).strip(),
                   body=render_to_string("accounts/email/email_changed.txt", context))
    return locked
