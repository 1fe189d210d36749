"""/healthz: 200 ok, 200 degraded when only the cache is down, 503 when the database is unreachable."""
import subprocess

import pytest

from tests.support import ROOT, answers, free_port, http_get, process_env, wait_for


def memcached_cache(location: str) -> dict:
    from django.conf import settings

    config = {**settings.CACHES["default"], "LOCATION": [location]}
    return {"default": config}


@pytest.mark.django_db
def test_healthz_is_ok_when_everything_answers(client, settings):
    settings.CRONJOBS = []
    response = client.get("/healthz")
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
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.fixture
def gunicorn_factory(var_dir):
    procs = []

    def start(**env_overrides) -> str:
        port = free_port()
        env = process_env(var_dir, **env_overrides)
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "ask.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(base + "/healthz"), 30, what="gunicorn")
        return base

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def test_healthz_answers_503_when_the_database_is_unreachable(gunicorn_factory):
    base = gunicorn_factory(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/ask")
    status, body = http_get(base + "/healthz")
    assert status == 503
    assert '"status": "down"' in body and '"database": {"ok": false' in body


def test_with_the_database_unreachable_pages_fail_with_the_friendly_500_page(gunicorn_factory):
    base = gunicorn_factory(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/ask")
    # A session cookie makes the page look its visitor up in the database.
    status, body = http_get(base + "/", headers={"Cookie": "sessionid=" + "a" * 32})
    assert status == 500
    assert "Something went wrong" in body
