"""Point-in-time restore: the newest base backup before the moment, plus the archived log replayed to
it, into a cluster of its own (PostgreSQL's recovery, started with the server's own programs).

restored_cluster() yields that cluster running on a socket in a private folder; the restore_db and
verify_backup commands copy from it into a database, or count its rows, or keep it as the new cluster.
Nothing is used that the signed manifests (the base backup's, the archive's) do not vouch for."""
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

from ask.core.backups import BackupError, pg_restore_into, site_database
from ask.core.base_backups import BaseBackup, base_backup_extract, base_backups
from ask.core.media_archive import media_archive_restore
from ask.core.private_files import private_dir
from ask.core.wal_archive import (ArchiveError, caught_up_at, lsn_parse, manifest_read, sha256_prefix, wal_dir)

TARGETS = ("recovery_target_time", "recovery_target_lsn")
NOT_REACHED = "recovery ended before configured recovery target was reached"


@dataclass
class Coverage:
    """The moments a restore can reach: from the oldest base backup's end to the archive's catch-up."""
    start: datetime | None
    end: datetime | None
    backups: list

    def __str__(self) -> str:
        if not self.backups:
            return "no base backup yet (base_backup makes one)"
        if self.end is None:
            return "no archived log yet (archive_wal)"
        return f"{self.start:%Y-%m-%d %H:%M:%S %Z} to {self.end:%Y-%m-%d %H:%M:%S %Z}"


def archive_coverage() -> Coverage:
    backups = base_backups()
    try:
        end = caught_up_at(manifest_read())
    except ArchiveError:
        end = None
    return Coverage(min((b.stopped_at for b in backups), default=None), end, backups)


def base_for(target: datetime, coverage: Coverage) -> BaseBackup:
    """The newest base backup finished by target; BackupError naming what the archive covers."""
    if coverage.end is None or coverage.start is None or not coverage.start <= target <= coverage.end:
        raise BackupError(f"{target:%Y-%m-%d %H:%M:%S %Z} is outside what the archive covers: {coverage}.")
    return next(b for b in coverage.backups if b.stopped_at <= target)


@dataclass
class Cluster:
    """A restored cluster, running: connect with host=socket port=port."""
    data: Path
    socket: Path
    port: int
    log: Path
    backup: BaseBackup

    def connect_kwargs(self, database: str | None = None) -> dict:
        return {"host": str(self.socket), "port": self.port, "dbname": database or site_database()["NAME"],
                "user": site_database().get("USER") or "postgres"}


def _bindir(version_num: int) -> Path:
    bindir = Path(settings.BACKUP_PG_BINDIR or f"/usr/lib/postgresql/{version_num // 10000}/bin")
    if not (bindir / "postgres").is_file():
        raise BackupError(f"no PostgreSQL {version_num // 10000} server programs in {bindir} to restore with: "
                          f"install postgresql-{version_num // 10000} or set BACKUP_PG_BINDIR.")
    return bindir


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root the restore runs it as the postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _stage_log(backup: BaseBackup, staging: Path) -> int:
    """Copy the archived segments from the base backup's first on into staging, each checked against
    the manifest; the segment being written is its signed part padded with zeros, as PostgreSQL's
    own .partial files are. Returns the number staged."""
    body = manifest_read()
    size, first = body["segment_size"], backup.start_segment
    folder, staged = wal_dir(), 0
    wanted = {name: (digest, None) for name, digest in body["segments"].items() if name[8:] >= first[8:]}
    if body["partial"] and body["partial"]["name"] not in wanted:
        wanted[body["partial"]["name"]] = (body["partial"]["sha256"], body["partial"]["length"])
    for name, digest in body["history"].items():
        wanted[name] = (digest, None)
    for name, (digest, length) in sorted(wanted.items()):
        source = folder / (name + ".partial" if length is not None else name)
        if not source.is_file():
            raise BackupError(f"{source}: missing; the archived log has a hole and cannot be replayed past it.")
        size_read = length if length is not None else source.stat().st_size
        if sha256_prefix(source, size_read) != digest:
            raise BackupError(f"{source}: not what the archive's manifest signed; the log is damaged.")
        with source.open("rb") as src, (staging / name).open("wb") as dst:
            dst.write(src.read(size_read))
            if length is not None:
                dst.write(b"\0" * (size - length))
        staged += 1
    return staged


def _configure(data: Path, work: Path, staging: Path, targets: dict) -> None:
    for name in ("postgresql.conf", "pg_ident.conf"):  # a Debian cluster keeps them in /etc: none in the copy
        (data / name).touch()
    (work / "hba.conf").write_text("local all all trust\n")  # the socket is in a folder only we can enter
    lines = [f"restore_command = 'cp \"{staging}/%f\" \"%p\"'", "recovery_target_action = 'promote'",
             *(f"{key} = '{value}'" for key, value in targets.items())]
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.write("\n# restore (ask.core.pitr)\n" + "\n".join(lines) + "\n")
    (data / "recovery.signal").touch()


def _start(bindir: Path, cluster: Cluster) -> subprocess.CompletedProcess:
    options = (f"-c port={cluster.port} -c listen_addresses='' -c unix_socket_directories='{cluster.socket}' "
               f"-c hba_file='{cluster.socket}/hba.conf' -c hot_standby=off -c archive_mode=off "
               "-c max_wal_senders=0 -c wal_level=replica -c fsync=off")
    return subprocess.run([*_as_server_user(), str(bindir / "pg_ctl"), "start", "-w", "-t", "21600",
                           "-D", str(cluster.data), "-l", str(cluster.log), "-o", options],
                          capture_output=True, text=True)


def _recover(bindir: Path, cluster: Cluster, work: Path, staging: Path, targets: dict) -> None:
    """Start the copy in recovery; it replays to the target, promotes and accepts connections. When
    the archive holds no commit after the target, PostgreSQL stops short of it (the target was never
    seen): everything archived is then before the target, and replaying all of it is the answer."""
    _configure(cluster.data, work, staging, targets)
    if _start(bindir, cluster).returncode == 0:
        return
    said = cluster.log.read_text() if cluster.log.exists() else ""
    if NOT_REACHED in said:
        (cluster.data / "recovery.signal").touch()
        with (cluster.data / "postgresql.auto.conf").open("a") as conf:
            conf.write("".join(f"{key} = ''\n" for key in targets if key in TARGETS))
        if _start(bindir, cluster).returncode == 0:
            return
        said = cluster.log.read_text()
    raise BackupError(f"the restored cluster did not start; its log ends: {said.strip()[-800:]}")


@contextmanager
def restored_cluster(*, target_time: datetime | None = None, target_lsn: str | None = None,
                     keep_at: Path | None = None):
    """A cluster restored to target_time (or to target_lsn, a position the archive covers), running
    for the body of the with-statement, then stopped; removed unless keep_at names where it stays."""
    coverage = archive_coverage()
    if target_lsn is not None:
        backups = [b for b in coverage.backups if lsn_parse(b.info["stop_lsn"]) <= lsn_parse(target_lsn)]
        if not backups:
            raise BackupError(f"no base backup ends before {target_lsn}: {coverage}.")
        # Not inclusive: the first record at target_lsn is already after the moment (pitr_verify).
        backup, targets = backups[0], {"recovery_target_lsn": target_lsn, "recovery_target_inclusive": "false"}
    else:
        backup = base_for(target_time, coverage)
        targets = {"recovery_target_time": target_time.isoformat(sep=" ")}
    if keep_at and keep_at.exists() and any(keep_at.iterdir()):
        raise BackupError(f"{keep_at} is not empty; name a new folder for the restored cluster.")
    work = Path(tempfile.mkdtemp(prefix=f"{settings.SITE_NAME}-restore-"))
    data = keep_at or work / "data"
    cluster = Cluster(data=data, socket=work, port=5432, log=work / "server.log", backup=backup)
    bindir = _bindir(backup.info["server_version_num"])
    try:
        private_dir(data)
        private_dir(work / "wal")
        base_backup_extract(backup, data)
        _stage_log(backup, work / "wal")
        if os.geteuid() == 0:
            for path in (work, data):
                subprocess.run(["chown", "-R", "postgres:", str(path)], check=True)
        _recover(bindir, cluster, work, work / "wal", targets)
        try:
            yield cluster
        finally:
            subprocess.run([*_as_server_user(), str(bindir / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(data)],
                           capture_output=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if keep_at is None:
            shutil.rmtree(data, ignore_errors=True)


def restore_into_database(target: datetime, database: str) -> BaseBackup:
    """The site's data as it was at target, into database on the site's server (replacing what it
    holds, in one transaction), and the uploads of the base backup used put back; returns that backup."""
    with restored_cluster(target_time=target) as cluster, tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "restored.dump"
        kwargs = cluster.connect_kwargs()
        done = subprocess.run(["pg_dump", "--format=custom", "--compress=0", "--no-owner", f"--file={dump}",
                               f"--host={kwargs['host']}", f"--port={kwargs['port']}", f"--username={kwargs['user']}",
                               kwargs["dbname"]], capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_dump of the restored cluster failed: {done.stderr.strip()[-500:]}")
        pg_restore_into(dump, database)
        backup = cluster.backup
    media_archive_restore(backup.path / "media.tar")
    return backup


def restore_into_cluster(target: datetime, folder: Path) -> BaseBackup:
    """A new cluster at folder as it was at target (stopped; start it with pg_ctl -D folder start),
    and the uploads of the base backup used put back."""
    with restored_cluster(target_time=target, keep_at=folder) as cluster:
        backup = cluster.backup
    media_archive_restore(backup.path / "media.tar")
    return backup
