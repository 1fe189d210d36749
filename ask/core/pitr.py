"""Point-in-time restore: the newest base backup before the moment, plus the archived log replayed to
it, into a cluster of its own (PostgreSQL's recovery, on the server's own programs: pitr_server).

restored_cluster() yields that cluster running on a socket in a private folder; restore_db and
verify_backup copy from it into a database, count its rows, or keep it as the new cluster. Nothing is
used that the signed manifests (the base backup's, the archive's) do not vouch for: each file is read
once, and what is used is what was hashed; the log staged must run without a hole from the base
backup's start to the archive's end."""
import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

from ask.core.backups import BackupError
from ask.core.base_backups import BaseBackup, base_backup_extract, base_backups
from ask.core.pitr_server import Server, bindir_for, reachable, safe_path
from ask.core.private_files import private_dir
from ask.core.wal_archive import (MANIFEST, ArchiveError, caught_up_at, lsn_parse, manifest_read, read_regular,
                                  segment_start, successor, wal_dir)


@dataclass
class Coverage:
    """The moments a restore can reach: from the oldest base backup's end to the archive's catch-up."""
    start: datetime | None
    end: datetime | None
    backups: list
    manifest: dict | None

    def __str__(self) -> str:
        if not self.backups:
            return "no base backup yet (base_backup makes one)"
        if self.end is None:
            return "no archived log yet (archive_wal)"
        return f"{self.start:%Y-%m-%d %H:%M:%S %Z} to {self.end:%Y-%m-%d %H:%M:%S %Z}"


def archive_coverage() -> Coverage:
    """What the archive covers, from one reading of its manifest (used for the restore too)."""
    backups = base_backups()
    manifest = manifest_read() if (wal_dir() / MANIFEST).exists() else None  # a bad one: ArchiveError, said
    if manifest:
        backups = [b for b in backups if b.info.get("system") == manifest["system"]]
    end = caught_up_at(manifest) if manifest else None
    return Coverage(min((b.stopped_at for b in backups), default=None), end, backups, manifest)


def base_for(target: datetime, coverage: Coverage) -> BaseBackup:
    """The newest base backup finished by target; BackupError naming what the archive covers."""
    if coverage.end is None or coverage.start is None or not coverage.start <= target <= coverage.end:
        raise BackupError(f"{target:%Y-%m-%d %H:%M:%S %Z} is outside what the archive covers: {coverage}.")
    return next(b for b in coverage.backups if b.stopped_at <= target)


def log_chain(body: dict, first: str) -> list[tuple[str, str, int | None]]:
    """(name, digest, signed length or None for whole) of each segment from first to the archive's
    end, in order; ArchiveError at a hole. Past a timeline switch the newer timeline's segment of a
    position wins, as PostgreSQL's recovery follows it."""
    size, chain = body["segment_size"], []
    by_position: dict[str, list[str]] = {}
    for name in body["segments"]:
        by_position.setdefault(name[8:], []).append(name)
    partial = body["partial"]
    end = lsn_parse(body["covered_lsn"]) if body["covered_lsn"] else 0
    position = first[8:]
    while True:
        names = sorted(by_position.get(position, []))
        if partial and partial["name"][8:] == position and (not names or partial["name"][:8] > names[-1][:8]):
            chain.append((partial["name"], partial["sha256"], partial["length"]))
            return chain
        if not names:
            if chain and segment_start(chain[-1][0], size) + size >= end:
                return chain
            raise ArchiveError(f"the archived log has a hole at segment {position} (after "
                               f"{chain[-1][0] if chain else 'the base backup start'}); a restore cannot replay past "
                               "it: take a base backup to restore from after it.")
        chain.append((names[-1], body["segments"][names[-1]], None))
        position = successor(names[-1], size)[8:]


def _stage_log(body: dict, backup: BaseBackup, staging: Path) -> int:
    """Copy the chain of segments from the base backup's first into staging, each read once and
    checked against the manifest; the segment being written is its signed part padded with zeros, as
    PostgreSQL's own .partial files are. Returns the number staged."""
    folder, size = wal_dir(), body["segment_size"]
    chain = log_chain(body, backup.start_segment)
    for name, digest in body["history"].items():
        chain.append((name, digest, None))
    for name, digest, length in chain:
        path = folder / (f"{name}.partial" if length is not None else name)
        if not os.path.lexists(path):
            raise ArchiveError(f"the archived log has a hole at segment {name}: {path} is missing; a restore cannot "
                               "replay past it.")
        data = read_regular(path)
        data = data[:length] if length is not None else data
        if hashlib.sha256(data).hexdigest() != digest:
            raise BackupError(f"{folder / name}: not what the archive's manifest signed; the log is damaged.")
        (staging / name).write_bytes(data + (b"\0" * (size - len(data)) if length is not None else b""))
    return len(chain)


@dataclass
class Cluster:
    """A restored cluster, running."""
    server: Server
    backup: BaseBackup

    def connect_kwargs(self, database: str | None = None) -> dict:
        return self.server.connect_kwargs(database or settings.DATABASES["default"]["NAME"], self.server.user)


def _targets(coverage: Coverage, target_time: datetime | None, target_lsn: str | None,
             point: dict | None) -> tuple[BaseBackup, dict]:
    if point is not None:
        return _base_before(coverage, point["lsn"], f"the restore point {point['name']} ({point['at']})",
                            point["system"]), {"recovery_target_name": point["name"]}
    if target_lsn is None:
        return base_for(target_time, coverage), {"recovery_target_time": target_time.isoformat(sep=" ")}
    # Not inclusive: the first record at target_lsn is already after the moment (pitr_verify).
    return (_base_before(coverage, target_lsn, target_lsn, None),
            {"recovery_target_lsn": target_lsn, "recovery_target_inclusive": "false"})


def _base_before(coverage: Coverage, lsn: str, what: str, system: str | None) -> BaseBackup:
    """The newest base backup ending before the log position lsn, which the archive must cover."""
    manifest = coverage.manifest
    backups = [b for b in coverage.backups if lsn_parse(b.info["stop_lsn"]) <= lsn_parse(lsn)]
    if (not backups or manifest is None or not manifest["covered_lsn"] or (system and system != manifest["system"])
            or lsn_parse(lsn) > lsn_parse(manifest["covered_lsn"])):
        raise BackupError(f"{what} is outside what the archive covers: {coverage}.")
    return backups[0]


def _cluster_folder(keep_at: Path | None, work: Path) -> Path:
    if keep_at is None:
        return work / "data"
    keep_at = keep_at.resolve()  # absolute: never read as an option by chown or runuser
    if keep_at.exists() and (not keep_at.is_dir() or any(keep_at.iterdir())):
        raise BackupError(f"{keep_at} is not an empty folder; name a new folder for the restored cluster.")
    reachable(safe_path(keep_at))
    return keep_at


@contextmanager
def restored_cluster(*, target_time: datetime | None = None, target_lsn: str | None = None,
                     point: dict | None = None, keep_at: Path | None = None):
    """A cluster restored to target_time (or to target_lsn, a position the archive covers, or to a
    named restore point), running for the body of the with-statement, then stopped; removed unless
    keep_at names where it stays."""
    coverage = archive_coverage()
    backup, targets = _targets(coverage, target_time, target_lsn, point)
    bindir = bindir_for(backup.info["server_version_num"])
    work = safe_path(Path(tempfile.mkdtemp(prefix=f"{settings.SITE_NAME}-restore-")))
    data = _cluster_folder(keep_at, work)
    keep_at = data if keep_at else None
    server, ready = Server(bindir, data, work, settings.DATABASES["default"].get("USER") or "postgres"), False
    try:
        private_dir(data)
        base_backup_extract(backup, data)
        _stage_log(coverage.manifest, backup, private_dir(work / "wal"))
        server.prepare(work / "wal")
        server.recover(targets, lsn_parse(coverage.manifest["covered_lsn"]))
        ready = True
        yield Cluster(server, backup)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        if keep_at is None:
            shutil.rmtree(data, ignore_errors=True)
        elif not ready:  # half a cluster is no cluster: the folder is left empty for the next try
            for path in list(data.iterdir()) if data.is_dir() else []:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
