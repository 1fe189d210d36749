"""Run an iterator in a thread of its own, a few items ahead of its consumer.

import_data parses the next batch of a file while the database writes the current one: the parser
is Python (holding the GIL), the writer mostly waits for PostgreSQL (releasing it), so the two
overlap on a second core instead of taking turns."""
import queue
import threading
from typing import Iterator, TypeVar

from django.db import connections

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield what items yields, in order, with up to depth items made in advance. An exception of
    items is raised here, after the items before it; leaving early stops the thread. Database work in
    items uses connections of the thread's own, closed when it ends."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as error:  # handed to the consumer, raised there
            put((_END, error))
        finally:
            close = getattr(items, "close", None)  # a generator: close its files now, in its own thread
            if close:
                close()
            connections.close_all()  # the database connections this thread opened

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()
