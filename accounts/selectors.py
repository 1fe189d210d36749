"""Reads of the accounts app that forms and services share."""
from accounts.models import User


def pending_sign_up(email: str) -> User | None:
    """The never-activated account of this address (not one an admin deactivated), which a new
    sign-up replaces."""
    return User.objects.filter(email__iexact=email.strip(), is_active=False, activated_at=None).first()
