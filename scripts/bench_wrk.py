"""scripts/bench wrk: pages under concurrency, as issue 22 asks them measured. wrk (16 connections)
against gunicorn with the documented workers (scripts/gunicorn.conf.py), for the new, hot, tag and
question pages: a bare Django view returning the same bytes, the cached anonymous page, and the same
page for a logged-in member. Requests a second, p50 and p99 latency, errors."""
import os
import re
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from soak import wait_answering  # scripts/ is on the path (bench.py's folder)

SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
CONNECTIONS = 16


def _wrk(url: str, cookie: str = "") -> dict:
    """wrk's figures for one address: requests/s, p50 and p99 in ms, errors (socket and non-2xx)."""
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "5s", "--latency", url]
    if cookie:
        argv[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "errors": errors + (int(bad.group(1)) if bad else 0)}


def _member_cookie() -> str:
    """A logged-in member's cookies as their browser sends them: the session, made as log-in makes
    it, and the CSRF cookie from their first page (without it every page would make a new secret)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from accounts.models import User

    member = User.objects.filter(is_active=True, is_staff=False).order_by("id").first()
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(member.pk), settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = member.get_session_auth_hash()
    session.save()
    from django.middleware.csrf import _get_new_csrf_string

    return (f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={_get_new_csrf_string()}")


def _gunicorn(html_dir: Path):
    root = Path(__file__).resolve().parent.parent
    port = 9000 + os.getpid() % 500
    proc = subprocess.Popen(
        # --reuse-port: a socket per worker, connections spread by the kernel. On the shared socket
        # wrk's 16 keep-alive connections went to whichever worker accepted first, for the whole run:
        # split 15/1 the page ran at ~1,900 req/s, split 8/8 at ~3,200 (measured 2026-12-06), which was
        # the bare view's swing from 1,178 to 3,272 req/s between pages of one run.
        [str(root / ".venv/bin/gunicorn"), "ask.wsgi", "--config", str(root / "scripts/gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--reuse-port", "--pythonpath", str(root / "scripts")],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench_settings", "BENCH_HTML_DIR": str(html_dir),
             "LOG_LEVEL": "ERROR"}, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_answering(base + "/healthz")
    return proc, base


def bench_wrk() -> None:
    """wrk -c16 against gunicorn (WEB_WORKERS × WEB_THREADS as documented): bare view, cached
    anonymous page and logged-in member page for new, hot, tag and question (issue: performance)."""
    from io import StringIO

    from django.core.management import call_command

    from ask.qa.models import Question

    from bench import RATIO, figure

    if not Question.objects.exists():
        call_command("fill_db", str(RATIO), "--seed", "1", "--no-stats", stdout=StringIO())
    call_command("calc_sidebar", stdout=StringIO())
    top = Question.objects.order_by("-rating", "-id").first()
    pages = {"new": "/", "hot": "/hot/", "tag": "/tag/python/", "question": f"/q/{top.pk}/"}
    cookie = _member_cookie()
    work = Path(tempfile.mkdtemp(prefix="ask-bench-wrk-"))
    proc, base = _gunicorn(work)
    try:
        for name, url in pages.items():
            (work / f"{name}.html").write_bytes(urllib.request.urlopen(base + url).read())
        print(f"  wrk -c{CONNECTIONS} for {SECONDS} s each; gunicorn {os.environ.get('WEB_WORKERS', '2')} workers × "
              f"{os.environ.get('WEB_THREADS', '8')} threads; goals: cached >= 0.8 of bare, member >= 0.5 of cached")
        for name, url in pages.items():
            bare = _wrk(f"{base}/__bare__/{name}/")
            cached = _wrk(base + url)
            member = _wrk(base + url, cookie)
            for label, got in (("bare view", bare), ("cached, anonymous", cached), ("logged-in member", member)):
                ratio = ("" if label == "bare view" else f"{got['rps'] / bare['rps']:.2f} of bare"
                         if label.startswith("cached") else f"{got['rps'] / cached['rps']:.2f} of cached")
                figure(f"{name}: {label}", f"{got['rps']:,.0f} req/s",
                       f"p50 {got['p50']:.1f} ms, p99 {got['p99']:.1f} ms, {got['errors']} errors  {ratio}")
    finally:
        proc.terminate()
        proc.wait(20)
