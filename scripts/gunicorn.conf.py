"""How gunicorn serves the site: scripts/run, the tests' gunicorn and production read this file.

Threaded workers (gthread), not gunicorn's default sync ones. Measured on 2 cores (2026-12-03, fill_db
1, cached /, wrk -c16): sync 2 workers 3,578 req/s but two TCP connections that send nothing stall
every page (no answer in 25 s: each sync worker waits on whoever connected first); gthread 2 × 8
4,066 req/s, a page in 3 ms beside 2 idle connections, 4.7 s beside 20 (a new connection may hold a
thread 5 s before gunicorn sets it aside). Facing the internet, put nginx in front (scripts/serve):
it buffers slow clients, so none reaches a worker until its request is whole.

Each thread has its own database connection (CONN_MAX_AGE keeps it): WEB_WORKERS × WEB_THREADS per
host must stay under PostgreSQL's max_connections with the jobs' and the other hosts'.
"""
import os
import shutil
from pathlib import Path

worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 30  # a worker silent this long is restarted (the database's own limits end requests sooner)
graceful_timeout = 10
keepalive = 5
# var/run/gunicorn.sock (scripts/run --nginx) for this user only: gunicorn believes the forwarding
# headers of whoever connects, so another local user must not reach it past nginx.
umask = 0o077

# /metrics (ask.core.metrics): each worker keeps its request figures in files here, and a scrape of any
# worker sums every worker's (prometheus_client's multiprocess mode). Emptied at each start; a worker
# that exits is marked dead so its gauges go.
_METRICS = Path(os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    str(Path(os.environ.get("ASK_VAR_DIR", Path(__file__).resolve().parent.parent / "var")) / "prometheus")))


def on_starting(server) -> None:
    shutil.rmtree(_METRICS, ignore_errors=True)
    _METRICS.mkdir(parents=True, mode=0o700)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
