"""Which job run the current code works for, so every log line it writes can say so (ask.log's JSON
lines carry `job` and `run`). A context variable: threads a job starts see it too (copy_context)."""
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

current_run: ContextVar[tuple[str, int] | None] = ContextVar("current_run", default=None)


@contextmanager
def job_logged(name: str, run_id: int) -> Iterator[None]:
    token = current_run.set((name, run_id))
    try:
        yield
    finally:
        current_run.reset(token)
