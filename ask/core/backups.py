"""Database backups: written under a temporary name and renamed when complete, with a SHA-256
file and a signature beside each (ask.core.backup_signing), all readable by the site's user only,
checked to be readable, rotated, restored only when checksum and signature match, and verified by a
restore into a scratch database as a role without any rights beyond that database."""
import hashlib
import os
import re
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ask.core.backup_signing import (SignatureError, backup_sign, signature_path, signature_verify, signed_json_read,
                                     signed_json_write)
from ask.core.media_archive import media_archive_write
from ask.core.private_files import copy_hashed, make_private, private_dir, private_open, private_write

SUFFIX = {"postgresql": ".dump", "sqlite": ".sqlite3"}
# Never two of these at once: a copy of a database being replaced, or rotation deleting the backup
# being restored or verified. archive_wal is not among them: it streams throughout.
BACKUP_LOCK_GROUP = ("backup_db", "base_backup", "restore_db", "verify_backup")


class BackupError(Exception):
    """A backup cannot be made, checked or restored; the message says which file and what to do."""
NAME = re.compile(r"^(?P<site>.+)-(?P<stamp>\d{8}-\d{6})\.(dump|sqlite3)$")
CHUNK = 1024 * 1024
CLOCK_SLACK = timedelta(minutes=5)  # a backup dated later than now + this was not made here
# Rotation keeps every backup of the last day (reckoned from the newest): the one an admin made by
# hand before a change survives the nightly one, and the next by hand, of the same day.
KEEP_ALL_WITHIN = timedelta(hours=24)


@dataclass
class BackupResult:
    path: Path
    size: int
    seconds: float
    deleted: list


def site_database() -> dict:
    return settings.DATABASES["default"]


def libpq_env(db: dict) -> dict:
    """The environment for PostgreSQL's programs (pg_dump, pg_receivewal, ...) to reach db, a
    Django-style database dict; what db leaves out is left to libpq's defaults."""
    env = {**os.environ, "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or ""),
           "PGUSER": db.get("USER") or "", "PGPASSWORD": db.get("PASSWORD") or "", "PGDATABASE": db.get("NAME") or ""}
    return {k: v for k, v in env.items() if v != ""}


def _pg_env() -> dict:
    return libpq_env(site_database())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def signed_digest(path: Path) -> str:
    """The SHA-256 the backup's .sha256 file gives, once its signature is checked (the file itself is
    not read here); BackupError for a missing, unsigned or future-dated backup."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file.")
    stamp = _stamp_of(path)
    if stamp and stamp > _now_utc() + CLOCK_SLACK:
        raise BackupError(f"{path}: dated {stamp:%Y-%m-%d %H:%M} UTC, in the future; refusing it.")
    sums = checksum_path(path)
    if not sums.is_file():
        raise BackupError(f"{path}: its checksum file {sums.name} is missing; refusing to use it.")
    expected = (sums.read_text().split() or [""])[0]
    try:
        signature_verify(path, expected)
    except SignatureError as error:
        raise BackupError(str(error)) from None
    return expected


@contextmanager
def verified_copy(path: Path):
    """The backup copied once, never through a link, into a private temporary file while its SHA-256
    is computed; yielded only when that is the digest signed. pg_restore and the counting read the
    copy: a file swapped in after the check is never used (a planted dump once ran a program)."""
    expected = signed_digest(path)
    fd, name = tempfile.mkstemp(prefix=f"{settings.SITE_NAME}-restore-", suffix=path.suffix)
    copy = Path(name)
    try:
        try:
            with os.fdopen(fd, "wb") as dst:
                digest = copy_hashed(path, dst)
        except OSError as error:
            raise BackupError(str(error)) from None
        if digest != expected:
            raise BackupError(f"{path}: SHA-256 does not match {checksum_path(path).name}; the backup is damaged.")
        yield copy
    finally:
        copy.unlink(missing_ok=True)


def _now_utc() -> datetime:
    return timezone.now().replace(tzinfo=None)  # backup names carry UTC (timezone.now()) without a zone


def _stamp_of(path: Path, match: re.Match | None = None) -> datetime | None:
    match = match or NAME.match(path.name)
    try:
        return datetime.strptime(match.group("stamp"), "%Y%m%d-%H%M%S") if match else None
    except ValueError:
        return None


def backup_stamp(path: Path) -> datetime | None:
    """When backup_db made the file, by its name (aware, UTC)."""
    stamp = _stamp_of(path)
    return stamp.replace(tzinfo=dt_timezone.utc) if stamp else None


def pg_dump_compatible(server_version_num: int, pg_dump_version: str) -> None:
    """pg_dump must be at least the server's major version; raise BackupError saying what to install."""
    match = re.search(r"(\d+)(?:\.(\d+))?", pg_dump_version)
    client_major = int(match.group(1)) if match else 0
    server_major = server_version_num // 10000
    if client_major < server_major:
        raise BackupError(f"pg_dump {client_major} cannot dump a PostgreSQL {server_major} server: install "
                           f"postgresql-client-{server_major} (found: {pg_dump_version.strip()}).")


def _server_version_num() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0])


def backup_create(*, keep_daily: int, keep_weekly: int, dry_run: bool = False) -> BackupResult:
    """Write a new backup into BACKUP_DIR, check it, write its checksum, then rotate."""
    backup_dir = private_dir(Path(settings.BACKUP_DIR))
    vendor = connection.vendor
    final = backup_dir / f"{settings.SITE_NAME}-{timezone.now():%Y%m%d-%H%M%S}{SUFFIX[vendor]}"
    if dry_run:
        return BackupResult(final, 0, 0.0, backups_rotate(backup_dir, keep_daily, keep_weekly, dry_run=True))
    partial = final.with_name(final.name + ".partial")
    started = time.perf_counter()
    try:
        private_open(partial, "wb", replace=True).close()  # pg_dump and SQLite write into it: 0600 from the start
        if vendor == "postgresql":
            version = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, check=True).stdout
            pg_dump_compatible(_server_version_num(), version)
            _run(["pg_dump", "--format=custom", f"--compress={settings.BACKUP_COMPRESSION}", "--no-owner",
                  f"--file={partial}"], "pg_dump")
            _run(["pg_restore", "--list", str(partial)], "pg_restore --list (checking the new dump)")
        else:
            _sqlite_backup(Path(site_database()["NAME"]), partial)
        make_private(partial)
        digest = sha256_of(partial)
        os.replace(partial, final)
        private_write(checksum_path(final), f"{digest}  {final.name}\n")
        backup_sign(final, digest)
        _media_beside(final)
    finally:
        partial.unlink(missing_ok=True)
    deleted = backups_rotate(backup_dir, keep_daily, keep_weekly)
    return BackupResult(final, final.stat().st_size, time.perf_counter() - started, deleted)


def media_path(path: Path) -> Path:
    """The uploads' archive beside a dump: ask-20261201-023000.media.tar."""
    return path.with_name(path.name.rsplit(".", 1)[0] + ".media.tar")


def _media_beside(final: Path) -> None:
    media = media_path(final)
    partial = media.with_name(media.name + ".partial")
    try:
        media_archive_write(partial)
        digest = sha256_of(partial)
        os.replace(partial, media)
    finally:
        partial.unlink(missing_ok=True)
    private_write(checksum_path(media), f"{digest}  {media.name}\n")
    backup_sign(media, digest)


def backup_reported(job, result, noun: str) -> str:
    """A backup job's counters, its rotation named line by line, and its one-line summary."""
    for path in result.deleted:
        job.info(f"{'would delete' if job.dry_run else 'deleted'} {Path(path).name}")
    job.count("bytes", result.size)
    job.count("rotated away", len(result.deleted))
    if job.dry_run:
        return f"would write {result.path} and rotate away {len(result.deleted)} {noun}(s)"
    return (f"wrote {result.path} ({result.size / 1e6:,.1f} MB in {result.seconds:.1f}s), "
            f"rotated away {len(result.deleted)}")


def _run(argv: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    return result


def _sqlite_backup(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the site keeps writing. The copy would be
    in the site's WAL mode, and opening it later would leave -wal and -shm files beside it in the
    backup folder: it is switched to a plain rollback journal, one self-contained file."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{target}: the new SQLite backup fails its integrity check.")


def _sqlite_read_only(path: Path):
    """A backup opened to be read, creating no file beside it (its journal mode is DELETE)."""
    return closing(sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True))


def backups_list(backup_dir: Path) -> list[tuple[datetime, Path]]:
    """This site's complete backups, newest first (partial files and other sites' are left alone, and
    so are files dated in the future: no backup of ours has such a name, and it must not pass for newest)."""
    found = []
    latest = _now_utc() + CLOCK_SLACK
    for path in backup_dir.glob(f"{settings.SITE_NAME}-*"):
        match = NAME.match(path.name)
        stamp = _stamp_of(path, match)
        if match and match.group("site") == settings.SITE_NAME and stamp and stamp <= latest:
            found.append((stamp, path))
    return sorted(found, reverse=True)


def backups_to_keep(stamps: list[datetime], keep_daily: int, keep_weekly: int) -> set[datetime]:
    """The newest backup of each of the last keep_daily days that have one, and of each of the last
    keep_weekly ISO weeks that have one; every backup of the 24 hours before the newest is kept."""
    newest = max(stamps, default=None)
    keep: set[datetime] = {stamp for stamp in stamps if newest - stamp <= KEEP_ALL_WITHIN}
    days: dict = {}
    weeks: dict = {}
    for stamp in sorted(stamps, reverse=True):
        days.setdefault(stamp.date(), stamp)
        weeks.setdefault(stamp.isocalendar()[:2], stamp)
    keep.update(list(days.values())[:keep_daily])
    keep.update(list(weeks.values())[:keep_weekly])
    return keep


def backups_rotate(backup_dir: Path, keep_daily: int, keep_weekly: int, *, dry_run: bool = False) -> list[Path]:
    """Delete what backups_to_keep does not keep, never the newest backup verification passed (the
    last good copy, whatever its age: the newer ones may all be damaged)."""
    backups = backups_list(backup_dir)
    keep = backups_to_keep([stamp for stamp, _ in backups], keep_daily, keep_weekly)
    keep.update([stamp for stamp, path in backups if backup_verified(path)][:1])
    doomed = [path for stamp, path in backups if stamp not in keep]
    if not dry_run:
        for path in doomed:
            for each in (path, media_path(path)):
                each.unlink(missing_ok=True)
                checksum_path(each).unlink(missing_ok=True)
                signature_path(each).unlink(missing_ok=True)
            verified_path(path).unlink(missing_ok=True)
    return doomed


def verified_path(path: Path) -> Path:
    """NAME.verified, written by verify_backup when the backup passed."""
    return path.with_name(path.name + ".verified")


def backup_mark_verified(path: Path) -> None:
    """Signed, so a marker planted beside an old dump cannot keep it for ever."""
    signed_json_write(verified_path(path), {"name": path.name, "verified_at": timezone.now().isoformat()})


def backup_verified(path: Path) -> bool:
    try:
        return signed_json_read(verified_path(path)).get("name") == path.name
    except SignatureError:
        return False


def backup_made(path: Path) -> str:
    """When the backup was made, by its name, and how long ago: "made 2026-12-01 02:30 UTC, 1 day 6 h
    ago" (a restore of last month's backup by mistake should be seen before it is too late)."""
    stamp = _stamp_of(path)
    if stamp is None:
        return "made at an unknown time (not a backup_db name)"
    age = max(_now_utc() - stamp, timedelta(0))
    days, hours, minutes = age.days, age.seconds // 3600, age.seconds % 3600 // 60
    ago = (f"{days} day{'s' if days != 1 else ''} {hours} h" if days else f"{hours} h {minutes} min" if hours
           else f"{minutes} min")
    return f"made {stamp:%Y-%m-%d %H:%M} UTC, {ago} ago"


def newest_backup() -> Path:
    backups = backups_list(Path(settings.BACKUP_DIR))
    if not backups:
        raise BackupError(f"No backup of {settings.SITE_NAME} in {settings.BACKUP_DIR}.")
    return backups[0][1]


def backup_restore(*, path: Path, database: str | None = None) -> None:
    """Restore the backup over the site's database (or another database on the same server), from a
    copy checked against its signed digest."""
    with verified_copy(path) as copy:
        if connection.vendor == "postgresql":
            pg_restore_into(copy, database or site_database()["NAME"])
            return
        connection.close()
        with _sqlite_read_only(copy) as src, closing(sqlite3.connect(database or site_database()["NAME"])) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # the site's mode (settings), not the backup's


def pg_restore_into(path: Path, database: str) -> None:
    """Replace everything in database by the dump's contents, in one transaction."""
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={database}", str(path)], "pg_restore")
