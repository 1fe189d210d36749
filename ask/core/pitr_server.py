"""The PostgreSQL server a restore runs on a base backup's copy: its programs, its user, its
settings and its recovery, started and stopped (ask.core.pitr uses it).

Every recovery setting goes on the server's command line, which overrides whatever the copy's own
postgresql.auto.conf says (a recovery_end_command, a library to preload): the copy is checked
against its signed manifest, and still nothing in it gets to run a program here. The socket is in
a private folder and the server listens on no address."""
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from django.conf import settings

from ask.core.backups import BackupError
from ask.core.private_files import open_plain
from ask.core.wal_archive import lsn_parse, lsn_text

NOT_REACHED = "recovery ended before configured recovery target was reached"
SAFE_PATH = re.compile(r"^[A-Za-z0-9/._-]+$")  # pg_ctl hands -o and -D to /bin/sh
START_TIMEOUT = 2 * 3600  # below verify_backup's 3 h, so the job's own limit is never what stops it


def safe_path(path: Path) -> Path:
    if not SAFE_PATH.match(str(path)):
        raise BackupError(f"{path}: a restore runs PostgreSQL through a shell, so its folders may hold letters, "
                          "digits and / . _ - only; choose another (TMPDIR for the scratch folder).")
    return path


def bindir_for(version_num: int) -> Path:
    bindir = Path(settings.BACKUP_PG_BINDIR or f"/usr/lib/postgresql/{version_num // 10000}/bin")
    if not (bindir / "postgres").is_file():
        raise BackupError(f"no PostgreSQL {version_num // 10000} server programs in {bindir} to restore with: "
                          f"install postgresql-{version_num // 10000} or set BACKUP_PG_BINDIR.")
    return bindir


def as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root the restore runs it as the postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def reachable(folder: Path) -> None:
    """As root the server runs as postgres, which must be able to enter every folder above its data."""
    if os.geteuid() != 0:
        return
    parent = folder.resolve().parent
    if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(parent)]).returncode:
        raise BackupError(f"the postgres user cannot enter {parent}, so a cluster at {folder} could not run: "
                          "choose a folder it can reach (under /var/lib/postgresql, say).")


@dataclass
class Server:
    """The restored copy's server: data folder, socket folder (private), log."""
    bindir: Path
    data: Path
    socket: Path
    user: str  # a role of the copy's (the site's own)
    port: int = 5432  # on its socket only: any number, the folder is its own

    @property
    def log(self) -> Path:
        return self.socket / "server.log"

    def prepare(self, staging: Path) -> None:
        """Files the server needs and a Debian cluster keeps in /etc; written before the folders are
        handed to the server's user (as root, nothing is written into them after)."""
        for name in ("postgresql.conf", "pg_ident.conf", "recovery.signal"):
            (self.data / name).touch()
        (self.socket / "hba.conf").write_text("local all all trust\n")  # the socket's folder is ours alone
        self.staging = staging
        if os.geteuid() == 0:
            for path in (self.socket, self.data):
                subprocess.run(["chown", "-R", "postgres:", str(path)], check=True)

    def _options(self, targets: dict) -> str:
        settings_ = {"port": self.port, "listen_addresses": "", "unix_socket_directories": self.socket,
                     "hba_file": self.socket / "hba.conf", "hot_standby": "off", "archive_mode": "off",
                     "max_wal_senders": 0, "wal_level": "replica", "fsync": "off",
                     "shared_preload_libraries": "", "session_preload_libraries": "", "local_preload_libraries": "",
                     "recovery_end_command": "", "archive_cleanup_command": "", "ssl": "off",
                     "ssl_passphrase_command": "", "external_pid_file": "",
                     "restore_command": f'cp "{self.staging}/%f" "%p"', "recovery_target_action": "promote",
                     **targets}
        return " ".join(f"-c {key}={shlex.quote(str(value))}" for key, value in settings_.items())

    def start(self, targets: dict) -> subprocess.CompletedProcess:
        return subprocess.run([*as_server_user(), str(self.bindir / "pg_ctl"), "start", "-w", "-t",
                               str(START_TIMEOUT), "-D", str(self.data), "-l", str(self.log), "-o",
                               self._options(targets)], capture_output=True, text=True)

    def said(self) -> str:
        """The end of the server's log, read without following a link planted at its name."""
        try:
            with open_plain(self.log) as log:
                return log.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def recover(self, targets: dict, covered: int) -> None:
        """Start it in recovery; it replays to the target, promotes and accepts connections. When the
        archive holds no record after the target, PostgreSQL stops short of it (the target was never
        seen): the log staged is contiguous to the archive's end (ask.core.pitr), so everything in it
        is before the target, and replaying all of it is the answer."""
        started = self.start(targets)
        if self._promoted(started):
            return
        if NOT_REACHED in self.said() and "recovery_target_name" not in targets:  # a name is there or not at all
            subprocess.run([*as_server_user(), "touch", str(self.data / "recovery.signal")], check=True)
            started = self.start({key: value for key, value in targets.items() if key == "recovery_target_inclusive"})
            if self._promoted(started):
                self._replayed_to(covered)
                return
        raise BackupError(f"the restored cluster did not start: {started.stderr.strip()[-300:]}; its log ends: "
                          f"{self.said().strip()[-800:] or 'empty'}")

    def _replayed_to(self, covered: int) -> None:
        """Replaying all of the log must have reached the archive's end: a segment that ends early
        would otherwise stop recovery short, and the restore would be of an earlier moment."""
        with psycopg2.connect(**self.connect_kwargs("template1", self.user), connect_timeout=5) as conn:
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                reached = lsn_parse(cursor.fetchone()[0])
        conn.close()
        if reached < covered:
            raise BackupError(f"the archived log ended early, at {lsn_text(reached)} before the archive's end "
                              f"{lsn_text(covered)}: a segment is damaged; the restore would be of an earlier moment.")

    def _promoted(self, started: subprocess.CompletedProcess) -> bool:
        """Wait for the end of recovery (pg_ctl returns while a server without hot standby still
        replays); False when the server stopped instead."""
        deadline = time.monotonic() + START_TIMEOUT
        while started.returncode == 0 and time.monotonic() < deadline:
            if not (self.data / "postmaster.pid").exists():
                return False
            try:
                with psycopg2.connect(**self.connect_kwargs("template1", self.user), connect_timeout=5) as conn:
                    with conn.cursor() as cursor:
                        cursor.execute("SELECT pg_is_in_recovery()")
                        recovering = cursor.fetchone()[0]
                conn.close()
                if not recovering:
                    return True
            except psycopg2.OperationalError:  # starting up, still replaying
                pass
            time.sleep(0.5)
        return False

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*as_server_user(), str(self.bindir / "pg_ctl"), "stop", "-m", "fast", "-w",
                            "-D", str(self.data)], capture_output=True)

    def connect_kwargs(self, database: str, user: str) -> dict:
        return {"host": str(self.socket), "port": self.port, "dbname": database, "user": user}
