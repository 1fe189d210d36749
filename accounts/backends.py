"""Log-in by e-mail address or display name, both case-insensitive."""
from functools import lru_cache

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router

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
        """The session's user: the one read with the session when there is one (accounts.sessions),
        else one plain SELECT. Every page a member reads does this; the ORM query cost more than
        the round trip."""
        user = member_read_with_session(user_id)
        if user is None:
            user = _user_by_pk(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def _user_by_pk(user_id) -> User | None:
    try:
        pk = User._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    db = router.db_for_read(User)
    columns, sql = _user_select()
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    return User.from_db(db, columns, row) if row else None


@lru_cache(maxsize=1)
def _user_select() -> tuple[list[str], str]:
    fields = User._meta.concrete_fields
    names = ", ".join(field.column for field in fields)
    return ([field.attname for field in fields],
            f"SELECT {names} FROM {User._meta.db_table} WHERE {User._meta.pk.column} = %s")  # noqa: S608
