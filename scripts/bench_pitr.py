"""scripts/bench's "pitr" section: continuous archiving measured on a PostgreSQL cluster of its own
(initdb; a base backup copies a whole cluster, and the shared server holds other databases), filled
with fill_db BENCH_RATIO (10000, about 3.3M rows):
- base_backup against a bare pg_basebackup with the same options;
- the archive's lag (how long ago everything committed was archived) sampled every second while
  pgbench writes as fast as it can (4 clients, 30 s), with archive_wal streaming as cron runs it;
- restore_db --to a moment after the load, into a new cluster: base backup plus the log replayed."""
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")
RATIO = int(os.environ.get("BENCH_RATIO", "10000"))
LOAD_SECONDS = 30


def _figure(name: str, value: str, goal: str = "") -> None:
    print(f"  {name:<48} {value:>16}   {goal}")


class _Cluster:
    def __init__(self) -> None:
        self.bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.data = Path(tempfile.mkdtemp(prefix="ask-bench-pg-"))
        self.work = Path(tempfile.mkdtemp(prefix="ask-bench-pitr-"))
        self.restored = Path(tempfile.mkdtemp(prefix="ask-bench-restored-"))  # where the server's user can go
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(self.data, "postgres")
            shutil.chown(self.restored, "postgres")
        self.port = _free_port()
        subprocess.run([*self.as_postgres, self.bindir / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                        "--no-sync"], check=True, capture_output=True)
        self.pg_ctl = [*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                       str(self.data / "log"), "-w", "-o", f"-p {self.port} -k /tmp "
                       "-c listen_addresses=127.0.0.1 -c max_slot_wal_keep_size=20GB"]
        subprocess.run([*self.pg_ctl, "start"], check=True, capture_output=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "ask"], check=True)
        self.env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.port}/ask",
                    "ASK_VAR_DIR": str(self.work / "var"), "BACKUP_WAL_ARCHIVE": "true", "MEMCACHED_SERVERS": "",
                    "LOG_LEVEL": "ERROR", "TIME_ZONE": "UTC"}

    def manage(self, *argv: str) -> float:
        started = time.perf_counter()
        subprocess.run([PYTHON, str(ROOT / "manage.py"), *argv], env=self.env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    def query(self, sql: str):
        with psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="ask") as conn:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                row = cursor.fetchone()
        conn.close()
        return row

    def stop(self) -> None:
        subprocess.run([*self.pg_ctl, "stop", "-m", "immediate"], capture_output=True)
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.restored, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lag_under_load(cluster: _Cluster) -> list[float]:
    """Lag samples (seconds) every second while pgbench writes."""
    pgbench = cluster.bindir / "pgbench"
    where = ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]
    subprocess.run([pgbench, "-i", "-q", "-s", "10", *where, "ask"], check=True, capture_output=True)
    load = subprocess.Popen([pgbench, "-c", "4", "-j", "2", "-T", str(LOAD_SECONDS), *where, "ask"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    samples = []
    while load.poll() is None:
        time.sleep(1)
        caught, now = cluster.query("SELECT caught_up_at, clock_timestamp() FROM core_backupstatus WHERE id = 1")
        samples.append((now - caught).total_seconds() if caught else float("inf"))
    tps = next((line for line in load.stdout.read().splitlines() if line.startswith("tps")), "tps ?")
    _figure("pgbench write load (4 clients, 30 s)", f"{float(tps.split()[2]):,.0f} tps" if "=" in tps else tps)
    return samples


def bench_pitr() -> None:
    """base_backup against a bare pg_basebackup, the archive's lag under write load, and restore_db --to
    a moment, on a cluster of its own filled with fill_db BENCH_RATIO (issue: backups)."""
    cluster = _Cluster()
    try:
        cluster.manage("migrate", "-v0")
        cluster.manage("fill_db", str(RATIO), "--seed", "1", "--no-stats")
        size = cluster.query("SELECT pg_size_pretty(pg_database_size('ask'))")[0]
        streaming = subprocess.Popen([PYTHON, str(ROOT / "manage.py"), "archive_wal", "--loop", "--max-seconds",
                                      str(LOAD_SECONDS + 90), "--interval", "1"], env=cluster.env,
                                     stdout=subprocess.DEVNULL)  # first: a base backup needs the archive's slot
        time.sleep(3)
        started = time.perf_counter()
        subprocess.run(["pg_basebackup", f"--pgdata={cluster.work / 'bare'}", "--format=tar", "--wal-method=stream",
                        "--checkpoint=fast", "--compress=client-gzip:1", "-h", "127.0.0.1", "-p", str(cluster.port),
                        "-U", "postgres"], check=True)
        bare = time.perf_counter() - started
        ours = cluster.manage("base_backup")
        _figure(f"bare pg_basebackup -Ft -X stream -Z gzip:1 ({size})", f"{bare:.1f}s")
        _figure("base_backup (copy, uploads, checksums, signed)", f"{ours:.1f}s", f"{ours / bare:.2f}x; goal <= 1.2x")
        samples = _lag_under_load(cluster)
        _figure("archive lag under that load, median", f"{statistics.median(samples):.1f}s")
        _figure("archive lag under that load, worst", f"{max(samples):.1f}s", "goal < 60 s")
        moment = datetime.now(timezone.utc).isoformat()
        time.sleep(3)
        streaming.wait()
        wal = sum(p.stat().st_size for p in (cluster.work / "var/backups/wal").iterdir()) / 1e9
        took = cluster.manage("restore_db", "--to", moment, "--cluster", str(cluster.restored / "data"))
        _figure(f"restore_db --to --cluster: base backup + {wal:.1f} GB of log", f"{took:.1f}s")
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "scratch"],
                       check=True)
        took = cluster.manage("restore_db", "--to", moment, "--database", "scratch", "--yes")
        _figure("restore_db --to --database (+ pg_dump | pg_restore)", f"{took:.1f}s")
    finally:
        cluster.stop()
