"""`manage.py jobs --doctor`'s check of continuous archiving: what the database server must allow
(README "Backups"), each missing piece with the line that fixes it."""
import re
import shutil
import subprocess
from pathlib import Path

import dj_database_url
import psycopg2
from django.conf import settings
from django.db import connection
from psycopg2.extras import PhysicalReplicationConnection

from ask.core.wal_archive import slot_name
from ask.jobs.doctor import Finding

NAME = "continuous archiving"


def _server(query: str):
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def check_archiving() -> list[Finding]:
    if connection.vendor != "postgresql":
        return [Finding(NAME, True, "SQLite: backup_db's nightly copies only")]
    if not settings.BACKUP_WAL_ARCHIVE:
        return [Finding(NAME, True, "off: a lost disk loses what was written since the night's dump "
                                    "(BACKUP_WAL_ARCHIVE=true and README \"Backups\" turn it on)"), *_orphan_slot()]
    return [_wal_level(), _senders(), _slot_limit(), _replication_login(), *_programs(), _restore_points()]


def _restore_points() -> Finding:
    """Optional (mark_restore_point): said, never a problem."""
    if _server("SELECT has_function_privilege('pg_create_restore_point(text)', 'EXECUTE')"):
        return Finding(NAME, True, "mark_restore_point allowed for this role")
    role = connection.settings_dict.get("USER") or "ask"
    return Finding(NAME, True, f"mark_restore_point not allowed for this role (optional; as a superuser: GRANT EXECUTE "
                               f"ON FUNCTION pg_create_restore_point(text) TO {role};)")


def _orphan_slot() -> list[Finding]:
    """A slot nobody reads any more keeps every segment on the server, until its disk is full."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) "
                       "FROM pg_replication_slots WHERE slot_name = %s", [slot_name()])
        row = cursor.fetchone()
    if row is None:
        return []
    held = row[0]
    return [Finding(NAME, False, f"archiving is off, but its replication slot {slot_name()} still keeps {held} of "
                                 "log on the database server (and more every day)",
                    f"SELECT pg_drop_replication_slot('{slot_name()}');")]


def _slot_limit() -> Finding:
    """With no limit, archiving stopped for days fills the server's disk; with one, the slot is given
    up past it and archive_wal fails loudly (the site stays up; the archive has a hole until the next
    base backup)."""
    limit = _server("SHOW max_slot_wal_keep_size")
    return Finding(NAME, limit not in ("-1", "-1MB"), f"max_slot_wal_keep_size = {limit}",
                   "max_slot_wal_keep_size = 20GB (some days of log) in postgresql.conf, then reload")


def _wal_level() -> Finding:
    level = _server("SHOW wal_level")
    return Finding(NAME, level in ("replica", "logical"), f"wal_level = {level}",
                   "wal_level = replica in postgresql.conf, then restart the server")


def _senders() -> Finding:
    senders = int(_server("SHOW max_wal_senders"))
    return Finding(NAME, senders >= 3, f"max_wal_senders = {senders} (archive_wal takes one, base_backup two)",
                   "max_wal_senders = 10 in postgresql.conf, then restart the server")


def _replication_login() -> Finding:
    """A replication connection as BACKUP_REPLICATION_URL's role: proves the role's REPLICATION
    attribute and the pg_hba.conf line together, as pg_receivewal will need them."""
    db = dj_database_url.parse(settings.BACKUP_REPLICATION_URL)
    try:
        conn = psycopg2.connect(host=db.get("HOST") or None, port=db.get("PORT") or None, user=db.get("USER") or None,
                                password=db.get("PASSWORD") or None, dbname=db.get("NAME") or None,
                                connection_factory=PhysicalReplicationConnection, connect_timeout=5)
    except psycopg2.Error as error:
        said = str(error).strip().splitlines()[0]
        role = db.get("USER") or "ask"
        fix = (f"ALTER ROLE {role} WITH REPLICATION;" if "replication" in said and "role" in said else
               f"in pg_hba.conf: host replication {role} <web hosts' network> scram-sha-256, then reload")
        return Finding(NAME, False, f"no replication connection as {role}: {said}", fix)
    conn.close()
    return Finding(NAME, True, f"replication connection as {db.get('USER') or 'the default role'} allowed")


def _programs() -> list[Finding]:
    """pg_receivewal and pg_basebackup at least the server's version, and its server programs for restores."""
    major = int(_server("SHOW server_version_num")) // 10000
    found = []
    for program in ("pg_receivewal", "pg_basebackup"):
        path = shutil.which(program)
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout if path else ""
        match = re.search(r"(\d+)", version)
        ok = bool(match) and int(match.group(1)) >= major
        found.append(Finding(NAME, ok, f"{program}: {version.strip() or 'not found'}",
                             f"apt-get install postgresql-client-{major}"))
    bindir = Path(settings.BACKUP_PG_BINDIR or f"/usr/lib/postgresql/{major}/bin")
    found.append(Finding(NAME, (bindir / "postgres").is_file(), f"server programs for restores in {bindir}",
                         f"apt-get install postgresql-{major} (not started: restore_db runs it itself), "
                         "or BACKUP_PG_BINDIR"))
    return found
