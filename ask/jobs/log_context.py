"""Which job run the current code works for, so every log line it writes can say so (ask.log's JSON
lines carry `job` and `run`). A context variable: threads a job starts see it too (copy_context)."""
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

current_run: ContextVar[tuple[str, int | None] | None] = ContextVar("current_run", default=None)


@contextmanager
def job_logged(name: str) -> Iterator[None]:
    """Every line logged inside names the job; its run too, once run_logged has said which."""
    token = current_run.set((name, None))
    try:
        yield
    finally:
        current_run.reset(token)


def run_logged(run_id: int) -> None:
    """The job's run is recorded: from here its lines name it too (until job_logged's block ends)."""
    name, _ = current_run.get()
    current_run.set((name, run_id))
