"""Fixtures shared by every test: caches cleared, factories, real memcached and child processes."""
import pytest
from django.core.cache import caches

from tests.support import Memcached


@pytest.fixture(autouse=True)
def clear_caches():
    """Each test starts with empty caches, whatever the last one left."""
    for cache in caches.all():
        cache.clear()
    yield


@pytest.fixture
def memcached():
    """A memcached of the test's own, to stop or freeze without disturbing the suite's."""
    server = Memcached()
    yield server
    server.close()


@pytest.fixture
def var_dir(tmp_path):
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser build)."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of a test are still sync.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
