"""Settings come from the environment: embedded defaults, PostgreSQL and Memcached, deploy checks."""
import json
import secrets
import subprocess

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from pymemcache.client.base import Client

from tests.support import PYTHON, ROOT

SHOW_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'db_name': str(s.DATABASES['default']['NAME']),"
    " 'cache': s.CACHES['default']['BACKEND'], 'location': s.CACHES['default']['LOCATION'],"
    " 'mail': s.POST_OFFICE['BACKENDS']['default'], 'queue': s.EMAIL_BACKEND,"
    " 'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE']}))"
)


def settings_for(env: dict, var_dir) -> dict:
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "ask.settings", "ASK_VAR_DIR": str(var_dir), **env}
    out = subprocess.run([PYTHON, "-c", SHOW_SETTINGS], env=clean, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_nothing_configured_runs_embedded_on_sqlite_file_cache_and_file_mail(var_dir):
    shown = settings_for({}, var_dir)
    assert shown["db"] == "django_prometheus.db.backends.sqlite3", "Django's, its queries counted for /metrics"
    assert shown["db_name"] == str(var_dir / "ask.sqlite3")
    assert shown["cache"] == "ask.core.cache_backend.SignedFileBasedCache"
    assert shown["location"] == str(var_dir / "cache")
    assert shown["queue"] == "post_office.EmailBackend"
    assert shown["mail"] == "ask.core.mail_files.PrivateFileEmailBackend"


def test_database_url_and_memcached_servers_switch_to_postgres_and_a_memcached_pool(var_dir):
    shown = settings_for(
        {"DATABASE_URL": "postgres://app@db.internal:5432/ask", "MEMCACHED_SERVERS": "10.0.0.1:11211, 10.0.0.2:11211"},
        var_dir,
    )
    assert shown["db"] == "django_prometheus.db.backends.postgresql"
    assert shown["db_name"] == "ask"
    assert shown["conn_max_age"] == 60, "persistent connections are the biggest single speed-up"
    assert shown["cache"] == "ask.core.cache_backend.PersistentPyMemcacheCache"
    assert shown["location"] == ["10.0.0.1:11211", "10.0.0.2:11211"]


def test_the_suite_itself_runs_on_postgres_and_a_real_memcached():
    assert connection.vendor == "postgresql"
    token = secrets.token_hex(8)
    cache.set("probe", token)
    host, port = settings.CACHES["default"]["LOCATION"][0].split(":")
    raw = Client((host, int(port))).get(cache.make_key("probe"))
    assert raw is not None and token.encode() in raw, "the value must be stored in memcached itself"


def test_a_production_configuration_passes_check_deploy(var_dir):
    env = {
        "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "ask.settings", "ASK_VAR_DIR": str(var_dir),
        "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "ask.example.com",
        "ASK_HTTPS": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "MEMCACHED_SERVERS": "127.0.0.1:11211",
    }
    passed = subprocess.run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, cwd=ROOT, capture_output=True, text=True)
    assert passed.returncode == 0, passed.stderr
    env.pop("ASK_HTTPS")
    plain_http = subprocess.run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                                env=env, cwd=ROOT, capture_output=True, text=True)
    assert plain_http.returncode != 0
    assert "SECURE_SSL_REDIRECT" in plain_http.stderr


def test_a_per_process_cache_is_refused_by_a_system_check(settings):
    from ask.core.checks import cache_is_shared

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [e.id for e in cache_is_shared(None)] == ["ask.E001"]


def test_a_bad_boolean_in_the_environment_names_the_variable(var_dir):
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "ask.settings", "ASK_VAR_DIR": str(var_dir),
             "DEBUG": "maybe"}
    out = subprocess.run([PYTHON, "manage.py", "check"], env=clean, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in out.stderr
