"""Fixtures shared by every test: caches cleared, factories, real memcached and child processes."""
import asyncio
import signal
import subprocess
import time

import pytest
from django.core.cache import caches

from tests.support import ROOT, Memcached, answers, free_port, process_env, wait_for


def pytest_sessionstart(session):
    """Ctrl-C and SIGQUIT as a terminal gives them, also when the suite was started in the background
    of a script: a shell starts background commands with both ignored, and the processes the tests
    start would inherit that, so the tests that interrupt a job would see it finish instead."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGQUIT) is signal.SIG_IGN:
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)


@pytest.fixture(autouse=True)
def clear_caches():
    """Each test starts with empty caches, whatever the last one left."""
    from ask.core.caching import local_pages

    for cache in caches.all():
        cache.clear()
    local_pages.clear()
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


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a free local port, recording what it receives."""

    def __init__(self, hostname: str = "127.0.0.1") -> None:
        from aiosmtpd.controller import Controller

        from tests.support import free_port

        self.messages: list = []
        self.received_at: list[float] = []  # when each of messages arrived
        self.port = free_port()
        self.delay = 0.0  # seconds each mail takes to be accepted, for tests that catch a sender mid-batch

        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):
                await asyncio.sleep(server.delay)
                server.messages.append(envelope)
                server.received_at.append(time.time())
                return "250 OK"

        self._controller = Controller(Handler(), hostname=hostname, port=self.port)
        self.running = False

    def start(self) -> None:
        self._controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._controller.stop()
            self.running = False

    def bodies(self) -> list[str]:
        return [envelope.content.decode(errors="replace") for envelope in self.messages]


@pytest.fixture
def smtp(settings):
    """Mail queued through post_office and delivered over SMTP to a local server (started by the test)."""
    server = SmtpServer()
    settings.EMAIL_BACKEND = "post_office.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
    smtp_backend = "django.core.mail.backends.smtp.EmailBackend"
    backends = {"default": smtp_backend, "one_time_link": smtp_backend}
    settings.POST_OFFICE = {**settings.POST_OFFICE, "BACKENDS": backends}
    yield server
    server.stop()


@pytest.fixture
def gunicorn_factory(var_dir):
    """start(workers=1, **env) -> base URL: gunicorn as scripts/run starts it (scripts/gunicorn.conf.py),
    on the test database, stopped at the end."""
    procs = []

    def start(workers: int = 1, **env_overrides) -> str:
        port = free_port()
        env = process_env(var_dir, **env_overrides)
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "ask.wsgi", "--config", str(ROOT / "scripts/gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
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


def pytest_terminal_summary(terminalreporter):
    """The rig's table (tests/test_hosts.py): each fault, what the site did, each promise held or not."""
    from tests.rig_checks import report_lines
    lines = report_lines()
    if lines:
        terminalreporter.section("several hosts: faults and promises")
        for line in lines:
            terminalreporter.write_line(line)
