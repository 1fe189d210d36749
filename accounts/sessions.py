"""Database sessions (SESSION_ENGINE = "accounts.sessions") read together with their member.

Every page a member reads loads their session and then their user: two queries, each ≈ 0.5 ms of
ORM work around a ≈ 0.15 ms round trip, the largest cost of a member's page once the page itself
comes from a shared shell (ask.core.shells). Here the session row carries its member's id
(MemberSession.user_id), and one plain SELECT joins the two. Django's AuthenticationMiddleware is
kept, with its user read through get_user as before: this module's middleware only lets the
backend (accounts.backends) take the member read along with the session instead of reading it again.
Everything Django checks still happens: the backend's user_can_authenticate, the session hash.
"""
from contextvars import ContextVar
from functools import lru_cache

from django.contrib import auth
from django.contrib.auth import middleware
from django.contrib.sessions.backends import db
from django.db import InterfaceError, OperationalError, connections, router
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

_reading: ContextVar["SessionStore | None"] = ContextVar("accounts_session_being_read", default=None)


class SessionStore(db.SessionStore):
    member = None  # the member logged in to this session, as read with it (or None)

    @classmethod
    def get_model_class(cls):
        from accounts.models import MemberSession

        return MemberSession

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.user_id = _pk_or_none(data.get(auth.SESSION_KEY))
        return row

    def _get_session_from_db(self):
        from accounts.models import User

        model = self.model
        columns, sql = _session_with_member()
        alias = router.db_for_read(model)
        row = _read_first_row(connections[alias], sql, [self.session_key, timezone.now()])
        if row is None:
            self._session_key = None
            return None
        self.member = User.from_db(alias, columns, row[1:]) if row[1] is not None else None
        return model(session_key=self.session_key, session_data=row[0])


def _read_first_row(connection, sql: str, params: list):
    """One row, with the read as its own health check. Django checks a kept connection with a
    SELECT 1 before the first query of each request (CONN_HEALTH_CHECKS): a round trip on every
    member's page, whose first query is this read. Here the read goes first; if the connection turns
    out dead (PostgreSQL restarted, the backend terminated), it is closed and the read tried once more
    on a new one, as the health check would have done. Inside a transaction Django's check stands."""
    def read():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    if (connection.vendor != "postgresql" or connection.in_atomic_block or connection.connection is None
            or not connection.get_autocommit()):
        return read()  # Django's own health check stands (SQLite has none to skip)
    connection.health_check_done = True
    try:
        return read()
    except (OperationalError, InterfaceError):
        if connection.connection is not None and not getattr(connection.connection, "closed", 0):
            raise  # not a dead connection (a statement timeout, say): the caller's to handle
        connection.close()
        return read()


def _pk_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=1)
def _session_with_member() -> tuple[list[str], str]:
    from accounts.models import MemberSession, User

    fields = [User._meta.pk, *(f for f in User._meta.concrete_fields if not f.primary_key)]
    selected = ", ".join(f"u.{field.column}" for field in fields)
    sql = (f"SELECT s.session_data, {selected} FROM {MemberSession._meta.db_table} s "  # noqa: S608 - own names
           f"LEFT JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = s.user_id "
           "WHERE s.session_key = %s AND s.expire_date > %s")
    return [field.attname for field in fields], sql


def member_read_with_session(user_id):
    """The member the current request's session was read with, if it is user_id (else None)."""
    member = getattr(_reading.get(), "member", None)
    return member if member is not None and str(member.pk) == str(user_id) else None


def _user_of(request):
    if not hasattr(request, "_cached_user"):
        token = _reading.set(request.session)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            _reading.reset(token)
    return request._cached_user


class AuthenticationMiddleware(middleware.AuthenticationMiddleware):
    """Django's, whose get_user may take the member read with the session (member_read_with_session)."""

    def process_request(self, request) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user_of(request))
