"""The benchmark sections behind scripts/bench; each prints its figures and the goal beside them."""
import os
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


SECTIONS = {"cleanup": bench_cleanup}


def main(argv: list[str]) -> None:
    if "--list" in argv:
        for name, fn in SECTIONS.items():
            print(f"{name}: {fn.__doc__}")
        return
    chosen = argv or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        sys.exit(f"scripts/bench: unknown section(s) {', '.join(unknown)}; --list shows them")
    recreate_database()
    setup_django()
    for name in chosen:
        print(f"{name}: {SECTIONS[name].__doc__}")
        SECTIONS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
