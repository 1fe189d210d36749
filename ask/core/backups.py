"""Database backups: written under a temporary name and renamed when complete, with a SHA-256
file beside each, checked to be readable, rotated, restored only after the checksum matches, and
verified by a restore into a scratch database."""
import hashlib
import os
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

SUFFIX = {"postgresql": ".dump", "sqlite": ".sqlite3"}


class BackupError(Exception):
    """A backup cannot be made, checked or restored; the message says which file and what to do."""
NAME = re.compile(r"^(?P<site>.+)-(?P<stamp>\d{8}-\d{6})\.(dump|sqlite3)$")
CHUNK = 1024 * 1024


@dataclass
class BackupResult:
    path: Path
    size: int
    seconds: float
    deleted: list


def _db() -> dict:
    return settings.DATABASES["default"]


def _pg_env() -> dict:
    db = _db()
    env = {**os.environ, "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or ""),
           "PGUSER": db.get("USER") or "", "PGDATABASE": db["NAME"]}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return {k: v for k, v in env.items() if v != ""}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def checksum_verify(path: Path) -> None:
    """Raise BackupError unless the backup matches the SHA-256 written beside it."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file.")
    sums = checksum_path(path)
    if not sums.is_file():
        raise BackupError(f"{path}: its checksum file {sums.name} is missing; refusing to use it.")
    expected = sums.read_text().split()[0]
    if sha256_of(path) != expected:
        raise BackupError(f"{path}: SHA-256 does not match {sums.name}; the backup is damaged.")


def pg_dump_compatible(server_version_num: int, pg_dump_version: str) -> None:
    """pg_dump must be at least the server's major version; raise BackupError saying what to install."""
    match = re.search(r"(\d+)(?:\.(\d+))?", pg_dump_version)
    client_major = int(match.group(1)) if match else 0
    server_major = server_version_num // 10000
    if client_major < server_major:
        raise BackupError(f"pg_dump {client_major} cannot dump a PostgreSQL {server_major} server: install "
                           f"postgresql-client-{server_major} (found: {pg_dump_version.strip()}).")


def _server_version_num() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0])


def backup_create(*, keep_daily: int, keep_weekly: int, dry_run: bool = False) -> BackupResult:
    """Write a new backup into BACKUP_DIR, check it, write its checksum, then rotate."""
    backup_dir = Path(settings.BACKUP_DIR)
    backup_dir.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    final = backup_dir / f"{settings.SITE_NAME}-{timezone.now():%Y%m%d-%H%M%S}{SUFFIX[vendor]}"
    if dry_run:
        return BackupResult(final, 0, 0.0, backups_rotate(backup_dir, keep_daily, keep_weekly, dry_run=True))
    partial = final.with_name(final.name + ".partial")
    started = time.perf_counter()
    try:
        if vendor == "postgresql":
            version = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, check=True).stdout
            pg_dump_compatible(_server_version_num(), version)
            _run(["pg_dump", "--format=custom", f"--compress={settings.BACKUP_COMPRESSION}", "--no-owner",
                  f"--file={partial}"], "pg_dump")
            _run(["pg_restore", "--list", str(partial)], "pg_restore --list (checking the new dump)")
        else:
            _sqlite_backup(Path(_db()["NAME"]), partial)
        digest = sha256_of(partial)
        os.replace(partial, final)
        checksum_path(final).write_text(f"{digest}  {final.name}\n")
    finally:
        partial.unlink(missing_ok=True)
    deleted = backups_rotate(backup_dir, keep_daily, keep_weekly)
    return BackupResult(final, final.stat().st_size, time.perf_counter() - started, deleted)


def _run(argv: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    return result


def _sqlite_backup(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the site keeps writing."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{target}: the new SQLite backup fails its integrity check.")


def backups_list(backup_dir: Path) -> list[tuple[datetime, Path]]:
    """This site's complete backups, newest first (partial files and other sites' are left alone)."""
    found = []
    for path in backup_dir.glob(f"{settings.SITE_NAME}-*"):
        match = NAME.match(path.name)
        if match and match.group("site") == settings.SITE_NAME:
            found.append((datetime.strptime(match.group("stamp"), "%Y%m%d-%H%M%S"), path))
    return sorted(found, reverse=True)


def backups_to_keep(stamps: list[datetime], keep_daily: int, keep_weekly: int) -> set[datetime]:
    """The newest backup of each of the last keep_daily days that have one, and of each of the last
    keep_weekly ISO weeks that have one; the newest backup of all is always kept."""
    keep: set[datetime] = set(sorted(stamps, reverse=True)[:1])
    days: dict = {}
    weeks: dict = {}
    for stamp in sorted(stamps, reverse=True):
        days.setdefault(stamp.date(), stamp)
        weeks.setdefault(stamp.isocalendar()[:2], stamp)
    keep.update(list(days.values())[:keep_daily])
    keep.update(list(weeks.values())[:keep_weekly])
    return keep


def backups_rotate(backup_dir: Path, keep_daily: int, keep_weekly: int, *, dry_run: bool = False) -> list[Path]:
    backups = backups_list(backup_dir)
    keep = backups_to_keep([stamp for stamp, _ in backups], keep_daily, keep_weekly)
    doomed = [path for stamp, path in backups if stamp not in keep]
    if not dry_run:
        for path in doomed:
            path.unlink(missing_ok=True)
            checksum_path(path).unlink(missing_ok=True)
    return doomed


def newest_backup() -> Path:
    backups = backups_list(Path(settings.BACKUP_DIR))
    if not backups:
        raise BackupError(f"No backup of {settings.SITE_NAME} in {settings.BACKUP_DIR}.")
    return backups[0][1]


def backup_restore(*, path: Path, database: str | None = None) -> None:
    """Restore the backup over the site's database (or another database on the same server)."""
    checksum_verify(path)
    if connection.vendor == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
              f"--dbname={database or _db()['NAME']}", str(path)], "pg_restore")
        return
    connection.close()
    with sqlite3.connect(path) as src, sqlite3.connect(database or _db()["NAME"]) as dst:
        src.backup(dst)


def dump_row_counts(path: Path) -> dict[str, int]:
    """Rows per table in the dump itself, read from its data section (COPY blocks)."""
    counts: dict[str, int] = {}
    proc = subprocess.Popen(["pg_restore", "--data-only", "--file=-", str(path)], env=_pg_env(),
                            stdout=subprocess.PIPE, text=True)
    table = None
    for line in proc.stdout:
        if table is None:
            match = re.match(r"^COPY (?:\S+\.)?(\S+) \(.*\) FROM stdin;$", line)
            if match:
                table = match.group(1).strip('"')
                counts[table] = 0
        elif line == "\\.\n":
            table = None
        else:
            counts[table] += 1
    if proc.wait() != 0:
        raise BackupError(f"{path}: pg_restore could not read the dump's data.")
    return counts


def table_row_counts(database: str) -> dict[str, int]:
    env = {**_pg_env(), "PGDATABASE": database}
    tables = subprocess.run(["psql", "-At", "-c", "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"],
                            env=env, capture_output=True, text=True, check=True).stdout.split()
    if not tables:
        return {}
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM public.\"{t}\"" for t in tables)
    out = subprocess.run(["psql", "-At", "-F", "\t", "-c", query], env=env, capture_output=True, text=True,
                         check=True).stdout
    return {name: int(count) for name, count in (line.split("\t") for line in out.splitlines())}


def backup_verify(*, path: Path) -> dict[str, int]:
    """Restore into a scratch database and compare its rows per table with the dump's; returns them."""
    checksum_verify(path)
    if connection.vendor != "postgresql":
        with sqlite3.connect(path) as db:
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{path}: fails SQLite's integrity check.")
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    scratch = f"{_db()['NAME']}_verify"
    admin = {**_pg_env(), "PGDATABASE": "postgres"}
    subprocess.run(["dropdb", "--if-exists", scratch], env=admin, capture_output=True)
    _run(["createdb", scratch], "createdb (scratch database)")
    try:
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={scratch}", str(path)],
             "pg_restore into scratch")
        expected, restored = dump_row_counts(path), table_row_counts(scratch)
        wrong = {t: (n, restored.get(t)) for t, n in expected.items() if restored.get(t) != n}
        if wrong:
            raise BackupError(f"{path}: restored row counts differ from the dump's: {wrong}")
        return expected
    finally:
        subprocess.run(["dropdb", "--if-exists", scratch], env=admin, capture_output=True)


