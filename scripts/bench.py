"""The benchmark sections behind scripts/bench; each prints its figures and the goal beside them."""
import os
import statistics
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dj_database_url  # noqa: E402
import psycopg2  # noqa: E402


def recreate_database() -> None:
    db = dj_database_url.parse(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(dbname="postgres", user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432,
                            password=db["PASSWORD"])
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    conn.close()


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def figure(name: str, value: str, goal: str = "") -> None:
    print(f"  {name:<48} {value:>16}   {goal}")


def bench_cleanup(n: int = 100_000) -> None:
    """cleanup_activations over 100k abandoned sign-ups (issue: accounts)."""
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import ActivationKey, User

    expired = timezone.now() - timedelta(days=30)
    started = time.perf_counter()
    User.objects.bulk_create(
        [User(email=f"bench{i}@example.com", display_name=f"bench{i}", password="!", is_active=False,
              date_joined=expired - timedelta(days=7)) for i in range(n)], batch_size=5000)
    ids = list(User.objects.filter(email__startswith="bench").values_list("pk", flat=True))
    ActivationKey.objects.bulk_create(
        [ActivationKey(user_id=pk, key_hash=f"{pk:064x}", created_at=expired - timedelta(days=7), expires_at=expired)
         for pk in ids], batch_size=5000)
    figure("setup: abandoned sign-ups created", f"{n:,} in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    call_command("cleanup_activations", stdout=StringIO())
    seconds = time.perf_counter() - started
    assert not User.objects.filter(email__startswith="bench").exists()
    figure("cleanup_activations, 100k abandoned accounts", f"{seconds:.1f}s", f"({n / seconds:,.0f} users/s)")


RATIO = int(os.environ.get("BENCH_RATIO", "10000"))
QA_TABLES = [("accounts_user", "email LIKE '%@fill.example.com'"), ("ask_tag", ""), ("ask_question", ""),
             ("ask_question_tags", ""), ("ask_answer", ""), ("ask_questionvote", ""), ("ask_answervote", "")]


def bench_fill() -> None:
    """fill_db BENCH_RATIO (default 10000, ≈ 3.1M rows) against a raw COPY of the same rows (issue: Q&A)."""
    import io

    from django.core.management import call_command
    from django.db import connection, transaction

    from ask.filling import qa_clear

    started = time.perf_counter()
    call_command("fill_db", str(RATIO), "--seed", "1", stdout=StringIO())
    fill_seconds = time.perf_counter() - started
    buffers = {}
    with connection.cursor() as cursor:
        for table, where in QA_TABLES:
            buffers[table] = io.BytesIO()
            cursor.copy_expert(f"COPY (SELECT * FROM {table} {'WHERE ' + where if where else ''}) TO STDOUT", buffers[table])
    rows = sum(buffer.getvalue().count(b"\n") for buffer in buffers.values())
    qa_clear()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, _ in QA_TABLES:
            buffers[table].seek(0)
            cursor.copy_expert(f"COPY {table} FROM STDIN", buffers[table])
    copy_seconds = time.perf_counter() - started
    figure(f"fill_db {RATIO}: rows written", f"{rows:,}")
    figure("fill_db rows/s (generation + COPY)", f"{rows / fill_seconds:,.0f}", f"({fill_seconds:.1f}s)")
    figure("raw COPY FROM of the same rows, rows/s", f"{rows / copy_seconds:,.0f}", f"({copy_seconds:.1f}s)")
    figure("fill_db / raw COPY", f"{copy_seconds / fill_seconds:.2f}", "goal >= 0.5")


def _serve(env: dict, log: Path):
    """A one-worker gunicorn with the bench settings; its access log records each request's time."""
    import subprocess
    import urllib.request

    root = Path(__file__).resolve().parent.parent
    port = 8000 + os.getpid() % 1000
    proc = subprocess.Popen(
        [str(root / ".venv/bin/gunicorn"), "ask.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--pythonpath", str(root / "scripts"), "--access-logfile", str(log),
         "--access-logformat", "%(r)s %(s)s %(D)s"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench_settings", **env}, cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            break
        except OSError:
            time.sleep(0.2)
    return proc, base


def _server_ms(log: Path, path: str) -> float:
    """Median server time (gunicorn's %(D)s, microseconds) of the requests for this path."""
    rows = [line.split(" ") for line in log.read_text().splitlines()]  # GET /path HTTP/1.1 200 1234
    times = [int(row[4]) for row in rows if len(row) == 5 and row[1] == path and row[3] == "200"]
    return statistics.median(times[1:]) / 1000  # the first request fills the cache


def bench_pages() -> None:
    """Median server time of the main pages, cached and uncached, at the data fill left (issue: Q&A)."""
    import tempfile
    import urllib.request

    from django.core.management import call_command
    from django.db import connection

    from ask.models import Question

    if not Question.objects.exists():
        call_command("fill_db", str(RATIO), "--seed", "1", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE") if not connection.in_atomic_block else None
    call_command("calc_best", stdout=StringIO())
    top = Question.objects.order_by("-rating", "-id").first()
    pages = {"new": "/", "hot": "/hot/", "tag": "/tag/python/", "question": f"/q/{top.pk}/",
             "profile": f"/u/{top.author_id}/", "search": "/search/?q=deadlock+postgresql"}
    work = Path(tempfile.mkdtemp(prefix="ask-bench-"))
    runs = {"cached": 300, "memcached only": 300, "uncached": 40}
    results: dict[str, dict[str, float]] = {}
    modes = (("cached", {}), ("memcached only", {"ASK_PAGE_LOCAL_SECONDS": "0"}), ("uncached", {"BENCH_NO_CACHE": "1"}))
    for mode, env in modes:
        log = work / f"{mode}.log"
        proc, base = _serve({**env, "BENCH_HTML_DIR": str(work)}, log)
        try:
            for name, url in pages.items():
                html = urllib.request.urlopen(base + url).read()
                if mode == "cached":
                    (work / f"{name}.html").write_bytes(html)
                for _ in range(runs[mode]):
                    urllib.request.urlopen(base + url).read()
                if mode == "cached":
                    for _ in range(runs[mode] + 1):
                        urllib.request.urlopen(f"{base}/__bare__/{name}/").read()
        finally:
            proc.terminate()
            proc.wait(10)
        results[mode] = {name: _server_ms(log, url) for name, url in pages.items()}
        if mode == "cached":
            results["bare"] = {name: _server_ms(log, f"/__bare__/{name}/") for name in pages}
    print("  median server time (gunicorn, one worker); goals: cached <= 1.25x the bare view, uncached < 50 ms")
    print("  (cached: as served, a process reusing a fetched page for 1 s; memcached only: every request")
    print("  asks Memcached; profile and search are not page-cached, only their fragments)")
    print(f"  {'page':<10} {'bare view':>10} {'cached':>10} {'ratio':>6} {'memcached only':>15} {'ratio':>6} {'uncached':>10}")
    for name in pages:
        bare, cached, shared = results["bare"][name], results["cached"][name], results["memcached only"][name]
        print(f"  {name:<10} {bare:>8.2f}ms {cached:>8.2f}ms {cached / bare:>6.2f} {shared:>13.2f}ms"
              f" {shared / bare:>6.2f} {results['uncached'][name]:>8.1f}ms")


SECTIONS = {"cleanup": bench_cleanup, "fill": bench_fill, "pages": bench_pages}


def main(argv: list[str]) -> None:
    if "--list" in argv:
        for name, fn in SECTIONS.items():
            print(f"{name}: {fn.__doc__}")
        return
    keep = "--keep-db" in argv  # reuse what an earlier run left (pages after fill, without 4 minutes of fill)
    argv = [arg for arg in argv if arg != "--keep-db"]
    chosen = argv or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        sys.exit(f"scripts/bench: unknown section(s) {', '.join(unknown)}; --list shows them")
    if not keep:
        recreate_database()
    setup_django()
    for name in chosen:
        print(f"{name}: {SECTIONS[name].__doc__}")
        SECTIONS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
