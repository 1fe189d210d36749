"""Log-in by e-mail address or display name, both case-insensitive."""
from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class EmailOrDisplayNameBackend(ModelBackend):
    def authenticate(self, request, username: str | None = None, password: str | None = None, **kwargs):
        if not username or password is None:
            return None
        field = "email__iexact" if "@" in username else "display_name__iexact"
        user = User.objects.filter(**{field: username.strip()}).first()
        if user is None:
            User().set_password(password)  # same work as a real check, so timing does not tell
            return None
        # An inactive user with the right password is returned so the log-in form can say
        # "activate your account"; get_user() still refuses inactive users for every session.
        return user if user.check_password(password) else None
