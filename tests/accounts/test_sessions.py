"""Sessions read together with their member (accounts.sessions) on the real PostgreSQL: still the
database's word on every request (log-out, suspension, a password change end a session at once),
one round trip for both, and a connection the database dropped is replaced, not a 503."""
import psycopg2
import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import MemberSession
from tests.factories import UserFactory
from tests.support import logged_in, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_members_page_reads_session_and_member_in_one_query():
    client = logged_in(UserFactory(display_name="OneQuery"))
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/").content.decode()
    assert "OneQuery" in html
    assert len(captured) == 1 and "LEFT JOIN" in captured[0]["sql"], [q["sql"] for q in captured]
    row = MemberSession.objects.get(session_key=client.session.session_key)
    assert row.user_id == int(client.session[SESSION_KEY])


def test_suspension_log_out_and_a_new_password_end_the_session_at_once():
    suspended, leaving, changing = (UserFactory(display_name=n) for n in ("Suspended", "Leaving", "Changing"))
    clients = {name: logged_in(user) for name, user in (("s", suspended), ("l", leaving), ("c", changing))}
    second_device = logged_in(changing)
    for client in (*clients.values(), second_device):
        client.get("/")  # each page's shell now cached, the member read with the session
    suspended.is_active = False
    suspended.save(update_fields=["is_active"])
    assert "Suspended" not in clients["s"].get("/").content.decode()
    cookie = clients["l"].cookies["sessionid"].value
    clients["l"].post("/accounts/logout/")
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert "Leaving" not in replay.get("/").content.decode(), "a cookie kept from before the log-out"
    changing.set_password("another-pass-9")
    changing.save()
    assert "Changing" not in second_device.get("/").content.decode()


def test_a_connection_the_database_dropped_is_replaced_and_the_member_stays_logged_in():
    client = logged_in(UserFactory(display_name="StillHere"))
    assert "StillHere" in client.get("/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k in ("dbname", "host", "port", "user", "password")})
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    def gone() -> bool:
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            return cursor.fetchone()[0] == 0

    wait_for(gone, 10, what="the backend to end")
    other.close()
    response = client.get("/")
    assert response.status_code == 200 and "StillHere" in response.content.decode()


def test_the_migration_copies_live_sessions_with_their_member():
    from importlib import import_module

    copy_sessions = import_module("accounts.migrations.0003_member_sessions").copy_sessions
    member = UserFactory()
    old = DjangoSessionStore()
    old[SESSION_KEY] = str(member.pk)
    old.save()
    visitor = DjangoSessionStore()
    visitor["orders_cart"] = {"3": 1}
    visitor.save()
    MemberSession.objects.all().delete()
    copy_sessions(apps, None)
    copied = dict(MemberSession.objects.values_list("session_key", "user_id"))
    assert copied == {old.session_key: member.pk, visitor.session_key: None}
    assert not Session.objects.exists(), "moved, not left behind to be read by nothing"
