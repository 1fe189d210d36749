"""Health of the site's dependencies, for /healthz: the database is vital, the rest only degrades.

Core checks the database, the cache and the scheduled jobs (the job framework's jobs_health); the
domain apps may add theirs with register() from their AppConfig.ready(), so this module names none.

A report runs some 25 queries, and /healthz is public (load balancers ask it every few seconds from
every host, and so can anybody): recent_health_report() keeps each process's last report for
HEALTHZ_CACHE_SECONDS, and one caller at a time runs a new one while the others wait for it.
"""
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from ask.core.caching import cache_servers_down

OK, DEGRADED, DOWN = "ok", "degraded", "down"


@dataclass
class Check:
    ok: bool
    ms: float
    vital: bool = False  # a vital check that fails makes the whole site "down" (503)
    detail: str = ""
    data: dict = field(default_factory=dict)


def _timed(fn, *, vital: bool) -> Check:
    start = time.perf_counter()
    try:
        ok, detail, data = fn()
    except Exception as exc:  # any failure of a dependency is a failed check, not a 500
        ok, detail, data = False, f"{type(exc).__name__}: {exc}".strip(), {}
    return Check(ok=ok, ms=round((time.perf_counter() - start) * 1000, 1), vital=vital, detail=detail, data=data)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor, {}


def _cache():
    # A write and a read back: with ignore_exc a dead Memcached answers every get with a miss.
    key, token = "healthz:probe", secrets.token_hex(8)
    cache.set(key, token, timeout=30)
    # The probe's key lives on one server of the pool: each is asked too, so a host's /healthz names
    # a server it cannot reach (pages then miss the keys that server held: slower, never wrong).
    down = cache_servers_down()
    if down:
        return False, f"memcached does not answer: {', '.join(down)}", {"down": down}
    if cache.get(key) != token:
        return False, "cache did not return what was written", {}
    return True, settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1], {}


# A check returns (ok, detail, data) or raises; needs_database: skipped while the database is down.
Probe = Callable[[], tuple[bool, str, dict]]
_checks: dict[str, tuple[Probe, bool, bool]] = {}  # name -> (probe, vital, needs_database)


def register(name: str, probe: Probe, *, vital: bool = False, needs_database: bool = True) -> None:
    """Add a check to /healthz (call it from AppConfig.ready(); registering a name again replaces it)."""
    _checks[name] = (probe, vital, needs_database)


def register_defaults() -> None:
    register("database", _database, vital=True, needs_database=False)
    register("cache", _cache, needs_database=False)
    register("jobs", _jobs)


def _jobs() -> tuple[bool, str, dict]:
    """The scheduled jobs, with where staff read each problem in full (the Jobs pages)."""
    from django.urls import reverse

    from ask.jobs.selectors import jobs_health

    ok, detail, data = jobs_health()
    if data.get("problems"):
        data["pages"] = {job: settings.ASK_SITE_URL + reverse("job", args=[job]) for job in data["problems"]}
    return ok, detail, data


def health_report() -> tuple[str, dict]:
    """Run every check; returns the overall status and a JSON-ready report."""
    def run(with_database: bool) -> dict[str, Check]:
        return {name: _timed(probe, vital=vital)
                for name, (probe, vital, needs_db) in _checks.items() if needs_db == with_database}

    checks = run(False)
    if checks["database"].ok:
        checks.update(run(True))
    else:
        connection.close()  # a broken connection must not be reused by the next request of this worker
    if any(not c.ok and c.vital for c in checks.values()):
        status = DOWN
    elif all(c.ok for c in checks.values()):
        status = OK
    else:
        status = DEGRADED
    return status, {"status": status, "checks": {name: asdict(c) for name, c in checks.items()}}


class _RecentReport:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = float("-inf")
        self.report: tuple[str, dict] | None = None

    def clear(self) -> None:
        with self.lock:
            self.at, self.report = float("-inf"), None


recent = _RecentReport()


def recent_health_report() -> tuple[str, dict]:
    """health_report(), at most once every HEALTHZ_CACHE_SECONDS in this process."""
    with recent.lock:
        if recent.report is None or time.monotonic() - recent.at >= settings.HEALTHZ_CACHE_SECONDS:
            recent.report = health_report()
            recent.at = time.monotonic()
        return recent.report
