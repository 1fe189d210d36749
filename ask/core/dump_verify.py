"""Verification of dumps: restored into a scratch database as a role without rights beyond it, and
counted table by table against the dump's own data; the counting helpers pitr_verify shares."""
import re
import subprocess
from pathlib import Path

import psycopg2
from django.conf import settings
from django.db import connection
from psycopg2 import sql

from ask.core.backups import BackupError, _pg_env, _run, _sqlite_read_only, site_database, verified_copy


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


def connect_to(database: str):
    db = site_database()
    return psycopg2.connect(dbname=database, user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                            host=db.get("HOST") or None, port=db.get("PORT") or None)


def table_row_counts(database: str, *, role: str | None = None) -> dict[str, int]:
    """Rows per table of the database's public schema (as role, when given); every name quoted."""
    with connect_to(database) as conn, conn.cursor() as cursor:
        if role:
            cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        counts = rows_per_table(cursor)
    conn.close()
    return counts


def public_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def rows_per_table(cursor) -> dict[str, int]:
    """count(*) of every table of the public schema, on cursor's connection (and snapshot)."""
    counts = {}
    for table in public_tables(cursor):
        cursor.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def verify_role() -> str:
    """The role a verification restores as: no superuser, no rights but on its scratch database, so
    whatever a dump's functions and constraints try (COPY ... TO PROGRAM, reading files) is refused."""
    role = f"{settings.SITE_NAME}_backup_verify"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                                   "NOBYPASSRLS").format(sql.Identifier(role)).as_string(cursor.connection))
    return role


def backup_verify(*, path: Path) -> dict[str, int]:
    """Restore into a scratch database and compare its rows per table with the dump's; returns them.
    Both read one copy of the dump, checked against its signed digest (backups.verified_copy)."""
    with verified_copy(path) as copy:
        return _verify_copy(path, copy)


def _verify_copy(path: Path, copy: Path) -> dict[str, int]:
    if connection.vendor != "postgresql":
        with _sqlite_read_only(copy) as db:
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{path}: fails SQLite's integrity check.")
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: db.execute(f'SELECT count(*) FROM "{t.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
                    for t in tables}
    scratch = f"{site_database()['NAME']}_verify"
    role = verify_role()
    admin = {**_pg_env(), "PGDATABASE": "postgres"}
    subprocess.run(["dropdb", "--if-exists", scratch], env=admin, capture_output=True)
    _run(["createdb", f"--owner={role}", scratch], "createdb (scratch database)")
    try:
        _run(["pg_restore", f"--role={role}", "--no-owner", "--no-privileges", "--exit-on-error",
              f"--dbname={scratch}", str(copy)], "pg_restore into scratch")
        expected, restored = dump_row_counts(copy), table_row_counts(scratch, role=role)
        wrong = {t: (n, restored.get(t)) for t, n in expected.items() if restored.get(t) != n}
        if wrong:
            raise BackupError(f"{path}: restored row counts differ from the dump's: {wrong}")
        return expected
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", scratch], env=admin, capture_output=True)
