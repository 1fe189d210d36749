"""/healthz: 200 ok, 200 degraded when only the cache is down, 503 when the database is unreachable."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.support import free_port, http_get

MONITOR = {"HTTP_AUTHORIZATION": "Bearer test-healthz-token"}  # tests/settings.py's HEALTHZ_TOKEN


def memcached_cache(location: str) -> dict:
    from django.conf import settings

    config = {**settings.CACHES["default"], "LOCATION": [location]}
    return {"default": config}


@pytest.mark.django_db
def test_healthz_is_ok_when_everything_answers(client, settings):
    settings.CRONJOBS = []
    response = client.get("/healthz", **MONITOR)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["detail"] == "postgresql"
    assert body["checks"]["cache"]["ok"] and body["checks"]["cache"]["detail"] == "PersistentPyMemcacheCache"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_says_degraded_with_memcached_stopped(client, settings, memcached):
    settings.CRONJOBS = []
    settings.CACHES = memcached_cache(memcached.location)
    assert client.get("/healthz").json()["status"] == "ok"
    memcached.stop()
    response = client.get("/healthz", **MONITOR)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_healthz_answers_503_when_the_database_is_unreachable(gunicorn_factory):
    base = gunicorn_factory(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/ask")
    status, body = http_get(base + "/healthz", headers={"Authorization": MONITOR["HTTP_AUTHORIZATION"]})
    assert status == 503
    assert '"status": "down"' in body and '"database": {"ok": false' in body


def test_with_the_database_unreachable_pages_fail_with_the_friendly_500_page(gunicorn_factory):
    base = gunicorn_factory(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/ask")
    # A session cookie makes the page look its visitor up in the database.
    status, body = http_get(base + "/", headers={"Cookie": "sessionid=" + "a" * 32})
    assert status == 500
    assert "Something went wrong" in body


# --- Security finding 11: details only for staff or the token, and cheap to ask often ---------------

@pytest.fixture
def scheduled_failure(settings):
    from tests.ask.jobs.test_status import EVERY_10_MINUTES, JobRunFactory

    settings.CRONJOBS = EVERY_10_MINUTES
    JobRunFactory(status="failed", error="RuntimeError: boom")


@pytest.mark.django_db
def test_anonymous_callers_get_the_status_only(client, scheduled_failure):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "test-healthz-token"},
                    {"HTTP_AUTHORIZATION": "Bearer "}):
        response = client.get("/healthz", **headers)
        assert response.status_code == 200 and response.json() == {"status": "degraded"}, headers
        assert "boom" not in response.content.decode() and "postgresql" not in response.content.decode()


@pytest.mark.django_db
def test_staff_and_the_token_get_the_checks(client, scheduled_failure):
    assert "boom" in str(client.get("/healthz", **MONITOR).json()["checks"]["jobs"])
    client.force_login(UserFactory())
    assert "checks" not in client.get("/healthz").json(), "a member who is not staff sees the status only"
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/healthz").json()["checks"]["database"]["ok"]


@pytest.mark.django_db
def test_no_token_configured_means_no_token_works(client, settings):
    settings.HEALTHZ_TOKEN = ""
    for value in ("Bearer ", "Bearer", ""):
        assert "checks" not in client.get("/healthz", HTTP_AUTHORIZATION=value).json()


@pytest.mark.django_db
def test_a_flood_of_calls_runs_the_checks_once_per_interval(client, settings, django_assert_num_queries):
    from ask.core.health import recent

    settings.CRONJOBS = []
    settings.HEALTHZ_CACHE_SECONDS = 60
    recent.clear()
    client.get("/healthz")
    with django_assert_num_queries(0):
        for _ in range(50):
            assert client.get("/healthz").json() == {"status": "ok"}
    settings.HEALTHZ_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as rerun:
        client.get("/healthz")
    assert len(rerun) >= 2, "past the interval the checks run again"
    recent.clear()
