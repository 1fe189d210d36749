"""Locks that die with their process: PostgreSQL advisory locks, or file locks on SQLite.

Two kinds, both held for a job process's lifetime:
- the job lock (one per job name, for exclusive jobs): a second run sees it taken and skips;
- the run lock (one per JobRun): held while that run's process lives, so a run still marked
  "running" whose run lock is free belongs to a process that died (kill -9, OOM, reboot).
The PostgreSQL locks live on a connection of their own, so nothing the job does with its own
connection (commit, rollback, close after an error) can drop them.
"""
import fcntl
import hashlib
import os
import threading
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import Error, connection, connections

# Advisory lock keys are per database; the site name keeps two sites on one database apart.
RUN_LOCK_CLASS_ID_SPACE = 2**31


def _digest(text: str, size: int) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def job_lock_key(job: str) -> int:
    """A signed 64-bit advisory lock key for (site, job)."""
    return int.from_bytes(_digest(f"{settings.SITE_NAME}:job:{job}", 8), "big", signed=True)


def run_lock_class_id() -> int:
    """The first of the two 32-bit keys of every run lock: one namespace per site."""
    return int.from_bytes(_digest(f"{settings.SITE_NAME}:runs", 4), "big") % RUN_LOCK_CLASS_ID_SPACE


def run_lock_object_id(run_id: int) -> int:
    return run_id % RUN_LOCK_CLASS_ID_SPACE


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


class LockNotExclusive(Exception):
    """The lock connection keeps no session of its own (a transaction pooler): locks there lock nothing."""


POOLER_MESSAGE = ("the job lock's connection keeps no session of its own (a transaction pooler such as "
                  "pgbouncer in transaction mode?); point JOBS_LOCK_DATABASE_URL at PostgreSQL itself")


def lock_connection():
    """A new connection for advisory locks: to JOBS_LOCK_DATABASE_URL, by default the site's database."""
    if settings.DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS") and (
            settings.JOBS_LOCK_DATABASE_URL == settings.DATABASE_URL):
        raise LockNotExclusive("DATABASE_TRANSACTION_POOLER is on, and the job locks would go through the same "
                               "pooler; point JOBS_LOCK_DATABASE_URL at PostgreSQL itself")
    default = connections["default"]
    own = {}
    if settings.JOBS_LOCK_DATABASE_URL != settings.DATABASE_URL:
        parsed = dj_database_url.parse(settings.JOBS_LOCK_DATABASE_URL)
        own = {key: parsed[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    # The default's OPTIONS come along: connect_timeout, and the keepalives that end it on a network cut.
    return type(default)({**default.settings_dict, **own, "CONN_MAX_AGE": 0}, alias="jobs_lock")


class PostgresLocks:
    """Session-level advisory locks on a dedicated connection."""

    def __init__(self) -> None:
        self._conn = lock_connection()
        self._conn.inc_thread_sharing()  # the fence's watcher thread asks holds_job_lock()
        self._use = threading.Lock()

    def _scalar(self, sql: str, params: list) -> object:
        with self._use, self._conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def holds_job_lock(self, job: str) -> bool:
        """Whether this lock connection's server session still holds the job lock. False when the
        connection is gone, or when it reaches another session each time (a transaction pooler)."""
        key = job_lock_key(job)
        try:
            return bool(self._scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND objsubid = 1 AND classid = %s::bigint::oid"
                " AND objid = %s::bigint::oid)",
                [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF],
            ))
        except Error:
            return False

    def try_job_lock(self, job: str) -> bool:
        return self.try_lock(job_lock_key(job))

    def try_lock(self, key: int) -> bool:
        taken = bool(self._scalar("SELECT pg_try_advisory_lock(%s)", [key]))
        if taken:
            self.check_exclusive(key)
        return taken

    @staticmethod
    def check_exclusive(key: int) -> None:
        """A second connection must not get the lock just taken. Through pgbouncer in transaction
        mode it does (it is handed the same server session, or the lock has already left with it):
        refuse, instead of running unlocked beside another host. Costs one connection per run."""
        probe = lock_connection()
        try:
            with probe.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
                shared = cursor.fetchone()[0]
                if shared:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        finally:
            probe.close()
        if shared:
            raise LockNotExclusive(POOLER_MESSAGE)

    def hold_run_lock(self, run_id: int) -> None:
        self._scalar(
            "SELECT pg_try_advisory_lock(%s, %s)", [run_lock_class_id(), run_lock_object_id(run_id)]
        )

    def close(self) -> None:
        # Release explicitly: a closed session frees its locks only when its server process has
        # exited, a moment later, and the next run of the same job (one right after, say) would
        # find the lock still taken and skip.
        try:
            # Not waiting for a watcher's check that hangs on a dead network: closing frees the locks too.
            if self._conn.connection is not None and self._use.acquire(timeout=1):
                try:
                    with self._conn.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock_all()")
                finally:
                    self._use.release()
        except Error:  # InterfaceError ("connection already closed") is not a DatabaseError
            pass  # the connection is gone, and its locks with it
        finally:
            try:
                self._conn.close()
            except Error:
                pass


class FileLocks:
    """flock(2) locks under JOBS_LOCK_DIR; the kernel drops them when the process dies."""

    def __init__(self) -> None:
        self._dir = Path(settings.JOBS_LOCK_DIR)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._files: list = []
        self._run_lock: Path | None = None

    def _try(self, path: Path) -> bool:
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._files.append(handle)
        return True

    def try_job_lock(self, job: str) -> bool:
        return self._try(self._dir / f"{settings.SITE_NAME}-job-{job}.lock")

    def hold_run_lock(self, run_id: int) -> None:
        self._run_lock = run_lock_path(run_id)
        self._try(self._run_lock)

    def holds_job_lock(self, job: str) -> bool:
        return True  # a file lock ends only with its process

    def close(self) -> None:
        if self._run_lock is not None:
            self._run_lock.unlink(missing_ok=True)
        for handle in self._files:
            handle.close()
        self._files.clear()


def run_lock_path(run_id: int) -> Path:
    return Path(settings.JOBS_LOCK_DIR) / f"{settings.SITE_NAME}-run-{run_id}.lock"


def open_locks() -> PostgresLocks | FileLocks:
    return PostgresLocks() if uses_postgres() else FileLocks()


def live_run_ids(run_ids: list[int]) -> set[int]:
    """Which of these runs still have a living process (their run lock is held)."""
    if not run_ids:
        return set()
    if uses_postgres():
        wanted = {run_lock_object_id(run_id): run_id for run_id in run_ids}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
                " AND granted AND classid = %s::bigint::oid"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [run_lock_class_id()],
            )
            return {wanted[objid] for (objid,) in cursor.fetchall() if objid in wanted}
    alive = set()
    for run_id in run_ids:
        path = run_lock_path(run_id)
        if not path.exists():
            continue
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                alive.add(run_id)
                continue
        os.unlink(path)  # its process is gone; the file is litter now
    return alive
