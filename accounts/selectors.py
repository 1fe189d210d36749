"""Reads of the accounts app that forms and services share."""
from django.db.models import QuerySet

from accounts.models import User


def pending_sign_ups(email: str) -> QuerySet[User]:
    """The never-activated account of this address (not one an admin deactivated): the one a resend
    mails a new key for, and a new sign-up replaces."""
    return User.objects.filter(email__iexact=email.strip(), is_active=False, activated_at=None)


def pending_sign_up(email: str) -> User | None:
    return pending_sign_ups(email).first()
