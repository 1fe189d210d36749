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
from bench_day import bench_day  # noqa: E402  (scripts/ is on the path: this file's folder)
from bench_search import bench_search  # noqa: E402
from bench_wrk import bench_wrk  # noqa: E402
from bench_pitr import bench_pitr  # noqa: E402
from bench_transfer import bench_transfer  # noqa: E402
from soak import bench_soak, wait_answering  # noqa: E402

# An eta this far ahead makes cooking due at once at the demo kitchens (12 minutes' estimate) with the
# simulated courier (5 minutes on the road, 1 in hand): see orders.planning.
DUE_NOW = timedelta(minutes=18)


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


def bench_fill() -> None:
    """fill_db BENCH_RATIO (default 10000, ≈ 3.1M rows) into empty tables, against pg_restore -j2 of a
    pg_dump -Fc -Z0 of fill_db's own result into an empty database: the same rows, indexes and
    constraints, loaded as fast as PostgreSQL's own tools load them (issue: performance)."""
    import subprocess
    import tempfile

    from django.core.management import call_command
    from django.db import connection

    from ask.core.backups import _pg_env

    started = time.perf_counter()
    call_command("fill_db", str(RATIO), "--seed", "1", "--no-stats", stdout=StringIO())
    fill_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:  # every row of the database, as the dump holds them
        cursor.execute("SELECT relname FROM pg_stat_user_tables")
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT " + " + ".join(f'(SELECT count(*) FROM "{table}")' for table in tables))
        rows = int(cursor.fetchone()[0])
    dump = Path(tempfile.mkdtemp(prefix="ask-bench-fill-")) / "fill.dump"
    env = _pg_env()
    subprocess.run(["pg_dump", "-Fc", "-Z0", "--no-owner", f"--file={dump}"], env=env, check=True)
    scratch = f"{env['PGDATABASE']}_restore"
    admin = {**env, "PGDATABASE": "postgres"}
    subprocess.run(["psql", "-qc", f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', "-c",
                    f'CREATE DATABASE "{scratch}"'], env=admin, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(["pg_restore", "-j2", "--no-owner", "-d", scratch, str(dump)], env=env, check=True)
    restore_seconds = time.perf_counter() - started
    subprocess.run(["psql", "-qc", f'DROP DATABASE "{scratch}" WITH (FORCE)'], env=admin, check=True)
    dump.unlink()
    figure(f"fill_db {RATIO}: rows written", f"{rows:,}")
    figure("fill_db into empty tables", f"{fill_seconds:.1f}s", f"({rows / fill_seconds:,.0f} rows/s)")
    figure("pg_restore -j2 of the same rows (-Fc -Z0)", f"{restore_seconds:.1f}s",
           f"({rows / restore_seconds:,.0f} rows/s)")
    figure("fill_db / pg_restore -j2", f"{restore_seconds / fill_seconds:.2f}", "goal >= 0.5")


def _serve(env: dict, log: Path):
    """A one-worker gunicorn with the bench settings; its access log records each request's time."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    port = 8000 + os.getpid() % 1000
    proc = subprocess.Popen(
        [str(root / ".venv/bin/gunicorn"), "ask.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--pythonpath", str(root / "scripts"), "--access-logfile", str(log),
         "--access-logformat", "%(r)s %(s)s %(D)s"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench_settings", **env}, cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_answering(base + "/healthz")
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

    from ask.qa.models import Question

    if not Question.objects.exists():
        call_command("fill_db", str(RATIO), "--seed", "1", "--no-stats", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE") if not connection.in_atomic_block else None
    call_command("calc_sidebar", stdout=StringIO())
    top = Question.objects.order_by("-rating", "-id").first()
    deep = max(1, Question.objects.count() // 20 // 2)  # half-way down the new questions' pages
    pages = {"new": "/", "hot": "/hot/", "tag": "/tag/python/", "question": f"/q/{top.pk}/",
             "profile": f"/u/{top.author_id}/", "search": "/search/?q=deadlock+postgresql", "deep": f"/?page={deep}"}
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
    print(f"  {'page':<10} {'bare view':>10} {'cached':>10} {'ratio':>6}"
          f" {'memcached only':>15} {'ratio':>6} {'uncached':>10}")
    for name in pages:
        bare, cached, shared = results["bare"][name], results["cached"][name], results["memcached only"][name]
        print(f"  {name:<10} {bare:>8.2f}ms {cached:>8.2f}ms {cached / bare:>6.2f} {shared:>13.2f}ms"
              f" {shared / bare:>6.2f} {results['uncached'][name]:>8.1f}ms")


def bench_jobs() -> None:
    """The jobs at the data fill left, and the database's size: calc_sidebar (best members and popular
    tags; goal < 10 s), calc_stats (a day's run, and a year recomputed), recalc_ratings, backup_db,
    verify_backup. Run with BENCH_RATIO=100000 (≈ 33M rows) for ten times the data (issue: performance)."""
    import tempfile
    from datetime import date

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from ask.qa.models import Question

    if not Question.objects.exists():
        call_command("fill_db", str(RATIO), "--seed", "1", "--no-stats", stdout=StringIO())
    settings.BACKUP_DIR = Path(tempfile.mkdtemp(prefix="ask-bench-jobs-"))
    a_year_ago = (date.today() - timedelta(days=365)).isoformat()
    runs = (("calc_sidebar", [], "goal < 10 s"), ("calc_stats", [], "yesterday and today, as cron runs it"),
            ("calc_stats", ["--since", a_year_ago], "a year recomputed"), ("recalc_ratings", [], ""),
            ("backup_db", [], ""), ("verify_backup", [], "restored into a scratch database and counted"))
    for name, args, note in runs:
        started = time.perf_counter()
        call_command(name, *args, stdout=StringIO(), stderr=StringIO())
        figure(f"{name} {' '.join(args)}".strip(), f"{time.perf_counter() - started:.1f}s", note)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database()), (SELECT count(*) FROM ask_answer)")
        size, answers = cursor.fetchone()
    figure(f"database size ({answers:,} answers)", f"{size / 1e9:.1f} GB")
    backups = sorted(settings.BACKUP_DIR.glob("*.dump"))
    if backups:
        figure("backup size", f"{backups[-1].stat().st_size / 1e9:.2f} GB")


ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))


def _due_orders(count: int) -> None:

    from django.utils import timezone

    from ask.core.bulk import RowWriter, reserve_ids
    from orders.filling import restaurants_ensure
    from orders.models import Dish

    restaurants_ensure()
    dish = Dish.objects.filter(restaurant__integration="polled").first()
    from accounts.models import User

    customer, _ = User.objects.get_or_create(email="bench@example.com", defaults={"display_name": "bench"})
    now = timezone.now()
    ids = reserve_ids("orders_order", count)
    orders = RowWriter("orders_order", ["id", "customer_id", "eta", "status", "total", "address", "delivery_provider",
                                        "created_at", "next_check_at", "delayed_minutes"])
    items = RowWriter("orders_orderitem", ["order_id", "dish_id", "quantity", "price"])
    for pk in ids:
        orders.write((pk, customer.pk, now + DUE_NOW, "not_started", dish.price, "x", "polled",
                      now, now, 0))
        items.write((pk, dish.pk, 1, dish.price))
    orders.close()
    items.close()


def _reset_orders() -> None:
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM orders_ticket; DELETE FROM orders_simkitchenticket;"
                       " DELETE FROM orders_providercall; DELETE FROM orders_orderevent;")
        cursor.execute("UPDATE orders_order SET status = 'not_started', next_check_at = %s", [timezone.now()])
        cursor.execute("VACUUM ANALYZE orders_order")


def _processors(count: int, counted: Path | None = None):
    """process_orders in loop mode as cron starts it; counted: a file where the first one keeps the
    number of SQL statements it has sent (scripts/bench_counted.py)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    command = ["process_orders", "--loop", "--max-seconds", "3600", "--interval", "2"]
    argv = ([sys.executable, str(root / "scripts" / "bench_counted.py"), str(counted)] if counted
            else [sys.executable, str(root / "manage.py")])
    return [subprocess.Popen(argv + command, env={**os.environ, "LOG_LEVEL": "ERROR"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]


def _stop(procs) -> None:
    import signal

    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(120)


def bench_orders() -> None:
    """Orders advanced per second by 1 and 2 processors on BENCH_ORDERS (100,000) due orders, and the
    delay from due to first step in loop mode (issue: orders)."""


    from orders.models import Order

    _due_orders(ORDERS)
    rates = {}
    for count in (1, 2):
        _reset_orders()
        started = time.perf_counter()
        procs = _processors(count)
        while Order.objects.filter(status="not_started").exists():
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        _stop(procs)
        rates[count] = ORDERS / seconds
        figure(f"{count} processor(s): {ORDERS:,} orders to cooking", f"{rates[count]:,.0f}/s",
               "goal >= 500/s" if count == 1 else f"goal >= 1.6x one ({rates[2] / rates[1]:.2f}x)")


    _starvation(Order.objects.filter(status="cooking").count())


# What `scripts/bench day` measured (2026-12-06): an order is looked at this often from placing to
# delivery, over this long in flight; with a processor's re-checks a second, how many it can follow.
LOOKS_PER_ORDER, MINUTES_IN_FLIGHT = 13.9, 112


def _starvation(in_flight: int) -> None:
    """Every order in flight made an overdue routine re-check (the backlog of a processor fallen
    behind), then new orders come in one by one: each must be started at once, not behind them."""
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Order
    from orders.wakeup import orders_notify

    overdue = Order.objects.filter(status="cooking")
    overdue.update(next_check_at=timezone.now() - timedelta(minutes=10), urgent=False)
    procs, started = _processors(1), time.perf_counter()
    delays, behind = [], []
    for _ in range(5):
        time.sleep(3)
        order = Order.objects.filter(status="cooking").order_by("-next_check_at").first()
        with transaction.atomic():  # as a new order comes in: urgent, announced
            due = timezone.now()
            behind.append(overdue.filter(next_check_at__lt=due).count())
            Order.objects.filter(pk=order.pk).update(status="not_started", next_check_at=due, urgent=True,
                                                     eta=due + DUE_NOW)
            order.tickets.all().delete()
            orders_notify()
        while Order.objects.filter(pk=order.pk, status="not_started").exists():
            time.sleep(0.02)
        delays.append((timezone.now() - due).total_seconds())
    left, seconds = overdue.filter(next_check_at__lt=timezone.now()).count(), time.perf_counter() - started
    _stop(procs)
    figure(f"due -> first step behind {min(behind):,}-{max(behind):,} overdue re-checks (max of 5)",
           f"{max(delays):.2f}s", f"goal < 1 s ({max(delays):.2f}x of it); {in_flight:,} in flight")
    rate = (in_flight - left) / seconds
    figure("re-checks one processor makes meanwhile", f"{rate:,.0f}/s")
    figure("in-flight orders one processor can follow", f"{rate * MINUTES_IN_FLIGHT * 60 / LOOKS_PER_ORDER:,.0f}",
           f"{LOOKS_PER_ORDER} looks over {MINUTES_IN_FLIGHT} min each (bench day)")


def _one_due_order(notify: bool) -> tuple[int, float]:
    """An order due now, committed (announced by NOTIFY or not); returns its id and when it committed."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from orders.models import Dish, Order, OrderItem
    from orders.wakeup import orders_notify

    dish, customer = Dish.objects.first(), User.objects.get(email="bench@example.com")
    with transaction.atomic():
        now = timezone.now()
        order = Order.objects.create(customer=customer, eta=now + DUE_NOW, total=Decimal("9"),
                                     address="x", created_at=now, next_check_at=now)
        OrderItem.objects.create(order=order, dish=dish, quantity=1, price=dish.price)
        if notify:
            orders_notify()
    return order.pk, time.perf_counter()


def _first_step_seconds(notify: bool, count: int = 15) -> list[float]:
    from orders.models import Order

    delays = []
    for _ in range(count):
        pk, committed = _one_due_order(notify)
        while Order.objects.filter(pk=pk, status="not_started").exists():
            time.sleep(0.005)
        delays.append(time.perf_counter() - committed)
        time.sleep(0.7)  # into the processor's idle wait again, at a different point of it
    return sorted(delays)


def bench_wakeup() -> None:
    """An idle processor as cron runs it (--interval 2): its load on the database idle, against one
    woken every 2 s as polling did; due -> first step with NOTIFY and without (a lost notification)
    (issue: orders)."""
    from orders.models import Order

    _due_orders(1)
    Order.objects.all().delete()
    time.sleep(10)  # autovacuum's analyses of the new tables, which count here too
    baseline = _transactions_a_minute(30)
    polling, _, procs = _idle_load({"ORDERS_LISTENING_MAX_WAIT": "2"}, baseline)  # a pass every 2 s
    _stop(procs)
    statements, transactions, procs = _idle_load({}, baseline)
    figure("idle processor: SQL statements a minute", f"{statements:.0f}",
           f"{polling:.0f} woken every 2 s, as polling did ({statements / polling:.2f}x)")
    figure("idle processor: transactions a minute on the database", f"{transactions:.0f}")
    for notify in (True, False):
        delays = _first_step_seconds(notify)
        figure(f"due -> first step, {'announced by NOTIFY' if notify else 'notification lost (polling)'}",
               f"median {delays[len(delays) // 2]:.3f}s, max {delays[-1]:.3f}s",
               "goal <= 0.2 s median" if notify else "at most ORDERS_LISTENING_MAX_WAIT, 30 s, or a due time")
    _stop(procs)


def _transactions_a_minute(seconds: float) -> float:
    """Transactions a minute on the database over the next `seconds` (besides this one's own)."""
    from django.db import connection

    with connection.cursor() as cursor:
        query = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        cursor.execute(query)
        before, started = cursor.fetchone()[0], time.perf_counter()
        time.sleep(seconds)
        cursor.execute(query)
        return (cursor.fetchone()[0] - before - 1) * 60 / (time.perf_counter() - started)


def _idle_load(env: dict, baseline: float) -> tuple[float, float, list]:
    """An idle processor started with these settings: its SQL statements and the database's
    transactions a minute over a minute, and the processor (still running)."""
    import tempfile

    counted = Path(tempfile.mkdtemp(prefix="ask-bench-")) / "statements"
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        procs = _processors(1, counted)
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    time.sleep(3)
    before, started = int(counted.read_text()), time.perf_counter()
    transactions = _transactions_a_minute(60) - baseline
    statements = (int(counted.read_text()) - before) * 60 / (time.perf_counter() - started)
    return statements, transactions, procs


def bench_backup() -> None:
    """backup_db against a bare pg_dump with the same options, on the data earlier sections left (issue: data)."""
    import subprocess
    import tempfile

    from django.conf import settings
    from django.core.management import call_command

    from ask.core.backups import _pg_env
    from ask.qa.models import Question

    if not Question.objects.exists():
        call_command("fill_db", str(RATIO), "--seed", "1", "--no-stats", stdout=StringIO())
    work = Path(tempfile.mkdtemp(prefix="ask-bench-backup-"))
    started = time.perf_counter()
    subprocess.run(["pg_dump", "--format=custom", f"--compress={settings.BACKUP_COMPRESSION}", "--no-owner",
                    f"--file={work / 'bare.dump'}"], env=_pg_env(), check=True)
    bare = time.perf_counter() - started
    settings.BACKUP_DIR = work
    started = time.perf_counter()
    call_command("backup_db", stdout=StringIO())
    ours = time.perf_counter() - started
    size = (work / "bare.dump").stat().st_size
    figure(f"bare pg_dump -Fc -Z{settings.BACKUP_COMPRESSION} ({size / 1e6:,.0f} MB)", f"{bare:.1f}s")
    figure("backup_db (dump, list, checksum, rotate)", f"{ours:.1f}s", f"{ours / bare:.2f}x; goal <= 1.2x")


SECTIONS = {"cleanup": bench_cleanup, "fill": bench_fill, "pages": bench_pages, "orders": bench_orders,
            "wakeup": bench_wakeup, "day": bench_day, "search": bench_search, "wrk": bench_wrk,
            "backup": bench_backup, "pitr": bench_pitr, "transfer": bench_transfer, "soak": bench_soak,
            "jobs": bench_jobs}


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
