"""Web requests never wait long on the database: a vote on a row another transaction (a job's
batch) holds answers 503 "try again" within the web's lock_timeout, through a real gunicorn, and
goes through once the lock is released."""
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg2
import pytest
from django.db import connection
from django.test import Client

from ask.qa.models import QuestionVote
from tests.factories import QuestionFactory, UserFactory
from tests.support import PYTHON, ROOT, manage, process_env

pytestmark = pytest.mark.django_db(transaction=True)


def holding_the_row(table: str, pk: int):
    """Another session holding the row FOR UPDATE, as a job's batch transaction does."""
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    cursor = other.cursor()
    cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [pk])
    return other


def post_vote(base: str, question_id: int, session: str) -> tuple[int, dict, str, float]:
    page = urllib.request.urlopen(urllib.request.Request(f"{base}/q/{question_id}/",
                                                         headers={"Cookie": f"sessionid={session}"}), timeout=10)
    csrf = re.search(r"csrftoken=([^;]+)", " ".join(page.headers.get_all("Set-Cookie") or [])).group(1)
    body = urllib.parse.urlencode({"value": "1", "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(f"{base}/vote/question/{question_id}/", data=body, headers={
        "Cookie": f"sessionid={session}; csrftoken={csrf}", "Accept": "application/json", "Referer": base + "/"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(), time.monotonic() - started


def test_a_vote_on_a_locked_row_answers_try_again_quickly_and_saves_nothing(gunicorn_factory, settings):
    if connection.vendor != "postgresql":
        pytest.skip("lock_timeout is PostgreSQL's")
    question, member = QuestionFactory(), UserFactory()
    client = Client()
    client.force_login(member)
    session = client.cookies["sessionid"].value
    base = gunicorn_factory(DB_WEB_LOCK_TIMEOUT_MS="500", SECRET_KEY=settings.SECRET_KEY)  # to read the session
    holder = holding_the_row("ask_question", question.pk)
    try:
        status, headers, body, took = post_vote(base, question.pk, session)
    finally:
        holder.rollback()
        holder.close()
    assert (status, headers.get("Retry-After")) == (503, "2"), body
    assert "try again" in body and took < 3, took
    assert not QuestionVote.objects.exists(), "nothing half-written"
    status, _, body, _ = post_vote(base, question.pk, session)
    assert status == 200 and '"rating": 1' in body


def test_web_processes_get_the_timeouts_and_jobs_do_not(var_dir):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's settings")
    show = ("from django.db import connection; c = connection.cursor(); c.execute('SHOW lock_timeout'); "
            "a = c.fetchone()[0]; c.execute('SHOW statement_timeout'); print(a, c.fetchone()[0])")
    # As gunicorn starts a web process: ask.wsgi first, which marks the process as the web's.
    web = subprocess.run([PYTHON, "-c", f"import ask.wsgi; {show}"], env=process_env(var_dir), cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert web.stdout.split() == ["2s", "10s"], web.stderr
    job = manage("shell", "--no-imports", "-c", show, env=process_env(var_dir))
    assert job.stdout.split() == ["0", "0"], job.stderr


def test_the_busy_page_asks_the_database_nothing(rf, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser
    from django.db import OperationalError

    from ask.core.busy import DatabaseBusyMiddleware

    class LockNotAvailable(Exception):
        pgcode = "55P03"

    error = OperationalError("canceling statement due to lock timeout")
    error.__cause__ = LockNotAvailable()
    request = rf.get("/q/1/?page=2")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        response = DatabaseBusyMiddleware(lambda r: None).process_exception(request, error)
    assert (response.status_code, response["Retry-After"]) == (503, "2")
    assert '<a href="/q/1/?page=2">Try again</a>' in response.content.decode()
    assert DatabaseBusyMiddleware(lambda r: None).process_exception(request, OperationalError("other")) is None


def test_a_database_out_of_reach_answers_try_again_not_a_server_error(gunicorn_factory):
    if connection.vendor != "postgresql":
        pytest.skip("the connection errors are PostgreSQL's")
    base = gunicorn_factory(DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere", DB_CONNECT_TIMEOUT="2")
    for path in ("/", "/q/1/"):
        try:
            urllib.request.urlopen(base + path, timeout=30)
            raise AssertionError(f"{path} answered without its database")
        except urllib.error.HTTPError as error:
            assert error.code == 503, (path, error.code)
            assert error.headers["Retry-After"] == "2"
            assert "try again in a few seconds" in error.read().decode()
