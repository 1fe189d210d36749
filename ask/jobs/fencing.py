"""Fencing: an exclusive run that lost its lock stops, and commits nothing after the loss.

A session advisory lock lives as long as its connection. pg_terminate_backend, a PostgreSQL restart
or fail-over, a network cut or idle_session_timeout end that connection without the holder noticing,
and the next run takes the lock and works while the first goes on. Two guards close that gap:

- At every commit of the run's own connection, under the row lock of its JobLease, the run checks
  that the lease still names it and that its lock connection still holds the lock; a new holder
  rewrites the lease before it starts (waiting for a commit in progress), so the old run's next
  commit fails and is rolled back. This is what makes "nothing written after the loss" hold,
  whatever the timing.
- A watcher thread asks the lock connection every JOBS_LOCK_CHECK_SECONDS (2 s) whether it still
  holds the lock; when not, it interrupts the run (a signal, as SIGTERM does), so a run that was
  computing or sleeping stops within that time instead of at its end.

A write outside a transaction (autocommit) is given one, so it is checked the same way. On a loss the
watcher also cancels the statement in progress, so a long DELETE stops too. Cost: two round trips
(≈ 0.2 ms) per commit of an exclusive job (an autocommit write: two more, BEGIN and COMMIT), and the
watcher's query every 2 s.
"""
import logging
import signal
import threading
import types

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

WRITES = ("insert", "update", "delete", "copy", "merge", "truncate")


class LockLost(DatabaseError):
    """The run's job lock is gone. A DatabaseError, so Django's atomic() rolls the commit back."""


class LockLostInterrupt(BaseException):
    """Raised in the run's thread by the watcher's signal. A BaseException (like JobTerminated), so a
    job's own `except Exception` cannot swallow it."""


class Fence:
    """Installed on the run's connection for the run's duration (exclusive jobs on PostgreSQL)."""

    def __init__(self, *, job: str, run_id: int, still_locked) -> None:
        self.job, self.run_id, self.still_locked = job, run_id, still_locked
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._can_interrupt = False
        self._busy = 0  # > 0 while in a statement or a commit: the interrupt waits for the next period
        self._conn = None
        self._canceller: threading.Thread | None = None

    # --- taking the lease and watching the lock --------------------------------------------------
    def take(self) -> None:
        """Name this run in the lease (waits for a commit of the previous holder in progress)."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(
                "INSERT INTO jobs_joblease (job, run_id, taken_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (job) DO UPDATE SET run_id = EXCLUDED.run_id, taken_at = EXCLUDED.taken_at",
                [self.job, self.run_id, timezone.now()],
            )

    def install(self) -> None:
        self.take()
        conn = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the `connection` proxy has its own __dict__
        original_commit = conn._commit

        def fenced_commit(wrapper):
            self._busy += 1  # the interrupt waits: _check raises LockLost here, with a rollback
            try:
                if wrapper.connection is not None:
                    with wrapper.wrap_database_errors:
                        self._check(wrapper.connection)
                return original_commit()
            finally:
                self._busy -= 1

        conn._commit = types.MethodType(fenced_commit, conn)
        self._conn = conn
        conn.execute_wrappers.append(self._before_statement)
        global _current
        if threading.current_thread() is threading.main_thread():
            # Installed once and never put back: a signal still on its way after the run must find a
            # handler that ignores it, not SIGUSR1's default action, which ends the process.
            signal.signal(signal.SIGUSR1, _interrupted)
            self._can_interrupt = True
        _current = self
        self._watcher = threading.Thread(target=self._watch, name=f"{self.job} lock watcher", daemon=True)
        self._watcher.start()

    def remove(self) -> None:
        """Unfenced first (recording the run's end must commit), then the watcher stopped."""
        global _current
        _current = None
        conn = connections[DEFAULT_DB_ALIAS]
        conn.__dict__.pop("_commit", None)
        if self._before_statement in conn.execute_wrappers:
            conn.execute_wrappers.remove(self._before_statement)
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=settings.JOBS_LOCK_CHECK_SECONDS + 5)

    def _watch(self) -> None:
        while not self._stop.wait(settings.JOBS_LOCK_CHECK_SECONDS):
            if not self.lost.is_set() and self.still_locked():
                continue
            if not self.lost.is_set():
                if settings.LOG_FILE:  # by hand the log is stderr, and the run's failure line says it
                    logger.warning("%s run %s lost its lock", self.job, self.run_id)
                self.lost.set()
            self._stop_the_run()  # again each period, until the run has stopped

    def _stop_the_run(self) -> None:
        """Interrupt the run's Python code (a sleep, a loop), and cancel its statement in progress (a
        long DELETE would otherwise go on for minutes, holding row locks the new holder needs). The
        cancel request is a connection of its own, which a network cut leaves hanging: it is sent
        from a thread of its own, so the watcher goes on interrupting."""
        if self._can_interrupt:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
        raw = self._conn.connection if self._conn is not None else None
        if raw is not None and not (self._canceller and self._canceller.is_alive()):  # one at a time
            self._canceller = threading.Thread(target=_cancel, args=(raw,), name=f"{self.job} cancel", daemon=True)
            self._canceller.start()

    # --- the checks -----------------------------------------------------------------------------
    def reason(self) -> str:
        return "lost its lock (its lock connection ended: database restart, fail-over or a killed backend)"

    def _check(self, raw_connection) -> None:
        """Inside the transaction about to commit: is the lease still ours? Locks the row till commit."""
        if self.lost.is_set():
            raise LockLost(self.reason())
        with raw_connection.cursor() as cursor:
            cursor.execute("SELECT run_id FROM jobs_joblease WHERE job = %s FOR UPDATE", [self.job])
            row = cursor.fetchone()
        if row is None or row[0] != self.run_id:
            self.lost.set()
            raise LockLost(f"lost its lock (run {row[0] if row else 'none'} holds the job now)")
        if not self.still_locked():  # lost, and nobody took it over yet: commit nothing either
            self.lost.set()
            raise LockLost(self.reason())

    def _before_statement(self, execute, sql, params, many, context):
        if self.lost.is_set():
            raise LockLost(self.reason())
        conn = context["connection"]
        if not conn.in_atomic_block and sql.lstrip()[:8].lower().startswith(WRITES):
            # A write in autocommit (Model.save, QuerySet.update) gets a transaction of its own, so
            # its commit is checked under the lease's row lock like any other.
            with transaction.atomic(using=conn.alias):
                return self._in_database(execute, sql, params, many, context)
        return self._in_database(execute, sql, params, many, context)

    def _in_database(self, execute, *args):
        """While the driver has the statement, the interrupt waits: raised inside psycopg2 (as it
        decodes a reply, say) it would be printed and ignored. The cancel ends the statement instead."""
        self._busy += 1
        try:
            return execute(*args)
        finally:
            self._busy -= 1


_current: Fence | None = None  # the fence of the run in progress in this process


def _cancel(raw_connection) -> None:
    try:
        raw_connection.cancel()  # thread-safe in psycopg2; harmless when nothing runs
    except Exception:  # noqa: BLE001 - the connection may be gone as well
        pass


def _interrupted(signum, frame) -> None:
    fence = _current
    if fence is not None and fence.lost.is_set() and not fence._busy:
        raise LockLostInterrupt(fence.reason())
