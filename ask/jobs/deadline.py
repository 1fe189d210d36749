"""A run's time limit, kept by the run itself: each job declares its own (JobCommand.timeout:
backup_db 3 h, most 1 h), so a line installed by `manage.py crontab add`, whose wrapper cannot tell
which job a hash runs, still gets the limit its job needs. Applies to runs the schedule started, or
to any run when ASK_JOB_TIMEOUT is set (timeout(1) syntax: 90s, 30m, 3h); runs by hand have none.

Over the limit the run sends itself SIGTERM (recorded failed, "timed out", exit 143, as the wrapper's
timeout would) and SIGKILL 30 s later if it is still there. scripts/cron-job keeps a 24 h backstop."""
import os
import re
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from ask.jobs.slots import started_by_schedule

KILL_AFTER_SECONDS = 30
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(raw: str) -> float:
    """timeout(1)'s syntax: a number with an optional unit s, m, h or d."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", raw)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"ASK_JOB_TIMEOUT={raw!r} is not a duration like 90s, 30m or 3h")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_limit(declared: float | None) -> float | None:
    """Seconds this run may take, or None: ASK_JOB_TIMEOUT, else the job's own limit under the schedule."""
    explicit = os.environ.get("ASK_JOB_TIMEOUT")
    if explicit:
        return parse_duration(explicit)
    return declared if started_by_schedule() else None


def said(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@contextmanager
def limited(seconds: float | None, fired: threading.Event) -> Iterator[None]:
    """While inside, a timer that sets `fired`, then SIGTERMs this process, then SIGKILLs it."""
    if seconds is None:
        yield
        return

    def kill() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def stop() -> None:
        fired.set()
        killer.start()
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Timer(KILL_AFTER_SECONDS, kill)
    killer.daemon = True
    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        killer.cancel()
