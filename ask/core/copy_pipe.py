"""COPY on a thread of its own: the next rows are made while the last chunk loads.

A bulk load in one thread alternates: Python makes a chunk of rows (≈ 60 % of fill_db's time), then
waits while PostgreSQL takes it. The pipe's thread sends each chunk on the same connection (so in
the same transaction) while the loading thread goes on making rows; psycopg2 lets go of the GIL
while it waits on the server, so the two overlap on two cores as pg_restore's jobs do.
"""
import queue
import threading

from django.db import connection

from ask.core.bulk import copy_bytes

DEPTH = 2  # chunks made ahead: ≈ 2 × 5 MB; a full queue makes the loading thread wait


class CopyPipe:
    """Chunks of COPY text sent in order by one thread, on the connection of the thread that opened
    the pipe. While it is open, that thread must not use the connection itself (it makes rows, the
    pipe loads them); leaving the pipe waits for every chunk and raises the first error there was.
    PostgreSQL only."""

    def __init__(self) -> None:
        self._db = connection  # the opening thread's wrapper: its connection, its transaction
        self._chunks: queue.Queue = queue.Queue(maxsize=DEPTH)
        self._error: BaseException | None = None
        self._stop = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "CopyPipe":
        self._db.ensure_connection()
        self._thread = threading.Thread(target=self._load, args=(self._db.connection,), name="copy-pipe", daemon=True)
        self._thread.start()
        return self

    def send(self, table: str, columns: list[str], text: str) -> None:
        """Queue a chunk (copy_text's format) for the table; raises the pipe's error, if any."""
        self._raise_failure()
        self._chunks.put((table, columns, text.encode()))

    def __exit__(self, kind, error, traceback) -> bool:
        self._stop = kind is not None  # the load failed here: what is queued is not worth loading
        self._chunks.put(None)
        self._thread.join()  # never unwind while the other thread still uses the connection
        if kind is None:
            self._raise_failure()
        return False

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _load(self, raw) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._stop or self._error is not None:
                continue  # drained, not loaded
            table, columns, data = chunk
            try:
                with self._db.wrap_database_errors, raw.cursor() as cursor:
                    copy_bytes(cursor, table, columns, data)
            except BaseException as failure:  # noqa: BLE001 - raised in the loading thread instead
                self._error = failure
