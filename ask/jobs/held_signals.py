"""Ctrl-C, SIGTERM and the lock fence's SIGUSR1 held back across a few lines that must happen both
or neither: a batch's commit and the note that it was committed. Without it a signal landing between
the two leaves the run record counting a batch less than the database holds (seen in a test: one
batch in a few dozen). A signal held is handled, by the handler it finds again, as soon as the block
ends; several held are all delivered."""
import os
import signal
from contextlib import contextmanager
from typing import Iterator

HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)


@contextmanager
def signals_held() -> Iterator[None]:
    """Inside, the HELD signals are only noted; at the end they are sent again to this process.
    Main thread only (as signal.signal is); keep the block short, a commit at most."""
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum)) for signum in HELD}
    try:
        yield
    finally:
        # Blocked while the handlers are put back and the signals re-sent: each is then pending, and
        # the first handler to raise cannot keep the others from being sent.
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
        try:
            for signum, handler in previous.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            for signum in dict.fromkeys(caught):
                os.kill(os.getpid(), signum)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)
