"""Helpers for tests that start real processes: manage.py commands, gunicorn, memcached."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def logged_in(user, **client_options):
    """A test client logged in as user (client_options go to Client: enforce_csrf_checks, ...)."""
    from django.test import Client

    client = Client(**client_options)
    client.force_login(user)
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes the tests start."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(var_dir: Path, **overrides: str) -> dict:
    """Environment for a child process on the test database and memcached, with its own var/."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=test_database_url(),
        ASK_VAR_DIR=str(var_dir),
        LOG_FILE=str(var_dir / "log.txt"),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args: str, env: dict, timeout: float = 60, wrapper: list[str] = (), python: bool = True,
           **kwargs) -> subprocess.CompletedProcess:
    """manage.py ARGS in a child process; wrapper goes before it (faketime ...), and python=False
    runs wrapper ARGS alone (scripts/cron-job COMMAND)."""
    argv = [*wrapper, PYTHON, str(ROOT / "manage.py"), *args] if python else [*wrapper, *args]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kwargs)


def start_manage(*args: str, env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, **kwargs,
    )


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def http_get(url: str, timeout: float = 5, headers: dict | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def answers(url: str):
    try:
        return http_get(url, timeout=2)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


class Memcached:
    """A real memcached on a free local port, which a test can stop or freeze."""

    def __init__(self) -> None:
        binary = shutil.which("memcached") or "/usr/bin/memcached"
        self.port = free_port()
        as_root = ["-u", "root"] if os.geteuid() == 0 else []  # memcached refuses root without it
        self.proc = subprocess.Popen(
            [binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "16", *as_root],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._listening, 10, what=f"memcached on port {self.port}")

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    @property
    def location(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def freeze(self) -> None:
        """Still accepts connections, never answers: the worst kind of outage."""
        self.proc.send_signal(signal.SIGSTOP)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.stop()
