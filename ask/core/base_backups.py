"""Base backups: a copy of the whole PostgreSQL cluster (pg_basebackup, tar format, with the log it
needs streamed in), from which a restore replays the archived log to a chosen moment (ask.core.pitr).

Each is a folder BACKUP_DIR/base/SITE-base-YYYYmmdd-HHMMSS/ holding base.tar(.gz), pg_wal.tar(.gz),
pg_basebackup's own backup_manifest, media.tar (the uploads) and BACKUP.json: the SHA-256 of every
file, where in the log the copy begins and ends, and when; signed (ask.core.backup_signing). It is
written under a dot-name and renamed when complete, so a half-written copy is never taken for one."""
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ask.core.backup_signing import SignatureError, signed_json_read, signed_json_write, signing_key
from ask.core.backups import CHUNK, BackupError, sha256_of
from ask.core.media_archive import media_archive_write
from ask.core.private_files import make_private, open_plain, private_dir
from ask.core.wal_archive import lsn_parse, replication_env, segment_name, slot_name

INFO = "BACKUP.json"
VERIFIED = "VERIFIED.json"  # written by verify_backup: rotation never deletes the newest verified copy
START = re.compile(r"write-ahead log start point: (\S+) on timeline (\d+)")
END = re.compile(r"write-ahead log end point: (\S+)")


@dataclass
class BaseBackup:
    path: Path
    info: dict

    @property
    def stopped_at(self) -> datetime:
        """From this moment on the copy plus the archived log can be restored."""
        return datetime.fromisoformat(self.info["stopped_at"])

    @property
    def start_segment(self) -> str:
        return segment_name(self.info["timeline"], lsn_parse(self.info["start_lsn"]), self.info["segment_size"])



@dataclass
class BaseResult:
    path: Path
    size: int
    seconds: float
    deleted: list


def base_root() -> Path:
    return Path(settings.BACKUP_DIR) / "base"


def _server_clock() -> tuple[datetime, int, int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp(), current_setting('server_version_num')::int, "
                       "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'), "
                       "(SELECT system_identifier::text FROM pg_control_system())")
        return cursor.fetchone()


def base_backup_create(*, keep: int, dry_run: bool = False) -> BaseResult:
    """Copy the cluster into a new base backup, sign it, then rotate the old ones away."""
    if connection.vendor != "postgresql":
        raise BackupError("base backups are PostgreSQL's (pg_basebackup); SQLite is backed up by backup_db.")
    private_dir(Path(settings.BACKUP_DIR))
    root = private_dir(base_root())
    final = root / f"{settings.SITE_NAME}-base-{timezone.now():%Y%m%d-%H%M%S}"
    if dry_run:
        return BaseResult(final, 0, 0.0, base_backups_rotate(keep, dry_run=True))
    _slot_kept()
    if not shutil.which("pg_basebackup"):
        raise BackupError("pg_basebackup is not installed: apt-get install postgresql-client (the server's version).")
    partial = root / f".{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    began = time.perf_counter()
    try:
        private_dir(partial)
        started_at, version, segment_size, system = _server_clock()
        level = settings.BACKUP_COMPRESSION
        done = subprocess.run(
            ["pg_basebackup", f"--pgdata={partial}", "--format=tar", "--wal-method=stream", "--checkpoint=fast",
             f"--compress={f'client-gzip:{level}' if level else 'none'}", f"--label={final.name}", "--verbose"],
            env=replication_env(), capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_basebackup failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        start, end = START.search(done.stderr), END.search(done.stderr)
        if not (start and end):
            raise BackupError(f"pg_basebackup did not say where its copy begins and ends: {done.stderr[-300:]}")
        stopped_at = _server_clock()[0]
        media = media_archive_write(partial / "media.tar")
        files = {}
        for path in sorted(partial.iterdir()):
            make_private(path)
            files[path.name] = sha256_of(path)
        signed_json_write(partial / INFO, {
            "name": final.name, "site": settings.SITE_NAME, "system": system, "server_version_num": version,
            "segment_size": segment_size, "timeline": int(start.group(2)), "start_lsn": start.group(1),
            "stop_lsn": end.group(1), "started_at": started_at.isoformat(), "stopped_at": stopped_at.isoformat(),
            "files": files, "media_files": media})
        os.rename(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    size = sum(p.stat().st_size for p in final.iterdir())
    return BaseResult(final, size, time.perf_counter() - began, base_backups_rotate(keep))


def _slot_kept() -> None:
    """A copy is restorable to later moments only with every segment from its start in the archive:
    the slot archive_wal made keeps them on the server from its first run on."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", [slot_name()])
        if cursor.fetchone() is None:
            raise BackupError(f"no replication slot {slot_name()} yet: archive_wal must have run before a base "
                              "backup, or the log between the copy and the archive's start would be missing.")


def base_backups() -> list[BaseBackup]:
    """The complete base backups of this site, newest first; one whose BACKUP.json is not this site's
    signed manifest under its own name is left out (and left alone)."""
    found = []
    root = base_root()
    candidates = list(root.glob(f"{settings.SITE_NAME}-base-*")) if root.is_dir() else []
    if candidates:
        signing_key()  # no key: SignatureError says so, rather than "no base backup"
    for path in candidates:
        try:
            info = signed_json_read(path / INFO)
        except SignatureError:
            continue
        if info.get("name") == path.name:
            found.append(BaseBackup(path, info))
    return sorted(found, key=lambda b: b.stopped_at, reverse=True)


def base_backup_extract(backup: BaseBackup, into: Path) -> None:
    """The cluster's files into `into` (empty), the log streamed with the copy into its pg_wal; each
    tar read once, hashed as it is unpacked: a file other than the one signed fails it, and the
    folder is thrown away before anything runs on it."""
    names = backup.info["files"]
    tars = [n for n in names if n.endswith((".tar", ".tar.gz")) and n != "media.tar"]
    if sorted(t.split(".")[0] for t in tars) != ["base", "pg_wal"]:
        raise BackupError(f"{backup.path}: holds {tars}; a copy with tablespaces is restored by hand.")
    for name in tars:
        target = into / "pg_wal" if name.startswith("pg_wal") else into
        target.mkdir(mode=0o700, exist_ok=True)
        with open_signed(backup.path / name, names[name]) as source:
            # gzip's own reader: pg_basebackup's files may hold several gzip members (tarfile's stream reads one)
            stream = gzip.GzipFile(fileobj=source, mode="rb") if name.endswith(".gz") else source
            try:
                with tarfile.open(fileobj=stream, mode="r|") as tar:
                    tar.extractall(target, filter="data")  # no links out, no devices, no names reaching outside
            except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
                source.finish()  # a file other than the one signed says so; else the signed one is unreadable
                raise BackupError(f"{backup.path / name}: cannot be unpacked ({error}).") from None
            source.finish()


class open_signed:
    """A file read once from start to end, its SHA-256 computed on the way; finish() raises
    BackupError unless it is the digest signed. Never through a link, never anything but a file."""

    def __init__(self, path: Path, digest: str) -> None:
        self.path, self.digest, self.sha = path, digest, hashlib.sha256()

    def __enter__(self) -> "open_signed":
        try:
            self.handle = open_plain(self.path)
        except OSError as error:
            raise BackupError(str(error)) from None
        return self

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.sha.update(data)
        return data

    def finish(self) -> None:
        while self.read(CHUNK):
            pass
        if self.sha.hexdigest() != self.digest:
            raise BackupError(f"{self.path}: SHA-256 does not match its signed manifest; the backup is damaged.")

    def __exit__(self, *exc) -> None:
        self.handle.close()


def base_backups_rotate(keep: int, *, dry_run: bool = False) -> list[Path]:
    """Delete all but the keep newest base backups, never the newest one that passed verification
    (the log they alone needed goes with archive_wal's next run)."""
    backups = base_backups()
    kept = {b.path for b in backups[:keep]}
    verified = [b for b in backups if _verified(b)]
    if verified:
        kept.add(verified[0].path)
    doomed = [b.path for b in backups if b.path not in kept]
    if not dry_run:
        for path in doomed:
            shutil.rmtree(path)
    return doomed


def base_backup_mark_verified(backup: BaseBackup) -> None:
    """Signed, so a marker planted in an old copy cannot keep it (and all log since) for ever."""
    signed_json_write(backup.path / VERIFIED, {"name": backup.path.name, "verified_at": timezone.now().isoformat()})


def _verified(backup: BaseBackup) -> bool:
    try:
        return signed_json_read(backup.path / VERIFIED).get("name") == backup.path.name
    except SignatureError:
        return False
