"""Ctrl-C and SIGTERM held back across a few lines that must happen both or neither: a batch's
commit and the note that it was committed. Without it a signal landing between the two leaves the
run record counting a batch less than the database holds (seen in a test: one batch in a few
dozen). A signal held is handled, by the handler it finds again, as soon as the block ends."""
import os
import signal
from contextlib import contextmanager
from typing import Iterator

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_held() -> Iterator[None]:
    """Inside, SIGINT and SIGTERM are only noted; at the end they are sent again to this process.
    Main thread only (as signal.signal is); keep the block short, a commit at most."""
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum)) for signum in HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(caught):
            os.kill(os.getpid(), signum)
