"""Settings for the web server scripts/bench measures: the site's, plus a bare view to compare with."""
import os

from ask.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
if os.environ.get("BENCH_NO_CACHE"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    ASK_PAGE_LOCAL_SECONDS = 0
