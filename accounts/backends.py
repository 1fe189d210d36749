"""Log-in by e-mail address or display name, both case-insensitive."""
from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from accounts.sessions import member_read_with_session


def user_of_login_name(name: str) -> User | None:
    """The user a log-in name means: an e-mail address when it has an @, else a display name."""
    field = "email__iexact" if "@" in name else "display_name__iexact"
    return User.objects.filter(**{field: name.strip()}).first()


class EmailOrDisplayNameBackend(ModelBackend):
    def authenticate(self, request, username: str | None = None, password: str | None = None, **kwargs):
        if not username or password is None:
            return None
        user = user_of_login_name(username)
        if user is None:
            User().set_password(password)  # same work as a real check, so timing does not tell
            return None
        # An inactive user with the right password is returned so the log-in form can say
        # "activate your account"; get_user() still refuses inactive users for every session.
        return user if user.check_password(password) else None

    def get_user(self, user_id):
        """The session's user: the one read along with the session (accounts.sessions: one joined
        SELECT for both on every member's page), else Django's own read."""
        user = member_read_with_session(user_id)
        if user is None:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None
