"""Test settings: the real settings plus a sample job app; subprocesses of the tests use them too."""
import json
import os

from ask.settings import *  # noqa: F403
from ask.settings import CRONJOBS, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.jobapp"]
# Pages straight from the shared cache, so a test sees a change at once (test_caching tests the local copy).
ASK_PAGE_LOCAL_SECONDS = 0
HEALTHZ_CACHE_SECONDS = 0  # tests/ask/core/test_health.py sets it where it is tested
HEALTHZ_TOKEN = "test-healthz-token"

# Faster hashing: tests create many users and never need a strong hash.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A test may schedule extra jobs for its subprocesses (JSON list of CRONJOBS entries).
CRONJOBS = [*CRONJOBS, *[tuple(entry) for entry in json.loads(os.environ.get("TEST_EXTRA_CRONJOBS", "[]"))]]
# Static files straight from the apps, so tests need no collectstatic (the smoke test runs that).
STORAGES = {**STORAGES,  # noqa: F405
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True

# A test may point a child process's mail delivery at its own SMTP server.
if os.environ.get("TEST_POST_OFFICE"):
    _smtp = json.loads(os.environ["TEST_POST_OFFICE"])
    EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS = _smtp["host"], _smtp["port"], False
    _backend = "django.core.mail.backends.smtp.EmailBackend"
    POST_OFFICE = {**POST_OFFICE, "BACKENDS": {"default": _backend, "one_time_link": _backend}}  # noqa: F405
