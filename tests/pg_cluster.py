"""A throw-away PostgreSQL cluster of a test's own (initdb), holding the test database's schema: for
faults done to the server itself (a restart) and for backups of a whole cluster (base backups, WAL)."""
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from django.db import connection

from tests.support import free_port


@dataclass
class Cluster:
    url: str
    port: int
    pg_ctl: list

    def query(self, sql: str, params: tuple = (), dbname: str = "ask") -> list:
        with psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname) as conn:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall() if cursor.description else []
        conn.close()
        return rows

    def createdb(self, name: str) -> None:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name], check=True)

    def restart(self, down_seconds: float) -> None:
        """Stopped, left down a while (the run notices in the meantime), started again."""
        subprocess.run([*self.pg_ctl, "stop", "-m", "fast"], check=True, capture_output=True)
        time.sleep(down_seconds)
        subprocess.run([*self.pg_ctl, "start"], check=True, capture_output=True)


@contextmanager
def own_postgres():
    """The cluster, started, with database "ask" holding the schema of the test database pytest-django
    made (copied with pg_dump: quicker than migrating); stopped and deleted after."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = Path(tempfile.mkdtemp(prefix="ask-pg-"))
    as_postgres = []
    if os.getuid() == 0:  # initdb refuses root
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_postgres, bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                   check=True, capture_output=True)
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "-o",
              f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"]
    subprocess.run([*pg_ctl, "start"], check=True, capture_output=True)
    try:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "ask"], check=True)
        db = connection.settings_dict  # the test database pytest-django made
        schema = subprocess.run(["pg_dump", "--schema-only", "-h", db["HOST"] or "127.0.0.1",
                                 "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres", db["NAME"]],
                                check=True, capture_output=True).stdout
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "ask"], input=schema, check=True, capture_output=True)
        yield Cluster(f"postgres://postgres@127.0.0.1:{port}/ask", port, pg_ctl)
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "immediate"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)
