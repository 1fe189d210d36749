"""Continuous archiving of PostgreSQL's write-ahead log into BACKUP_DIR/wal, so a restore can reach any
moment the archive covers (ask.core.pitr).

pg_receivewal, run by the archive_wal job under cron, rather than the server's archive_command:
- it streams each change as the server writes it, so the archive is seconds behind, not a 16 MB
  segment (or archive_timeout) behind;
- it runs where BACKUP_DIR is, on the web hosts, and needs of the server only a replication
  connection: no shell on the database host, no server setting but pg_hba and a role;
- its replication slot makes the server keep every segment until it is archived, so a job that did
  not run for an hour loses nothing, and a second pg_receivewal on the slot is refused by the server
  (PostgreSQL fences it, besides the job's own lock).

Checksums and signature: the signed manifest (MANIFEST.json) holds the SHA-256 of every complete
segment and of the flushed part of the segment being written (its length and digest: the log is only
appended, so that part never changes), the position it covers and since when the archive has been
caught up with the server. A restore uses only what the manifest vouches for.
"""
import hashlib
import os
import re
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import connection

from ask.core.backup_status import archive_status_save
from ask.core.backup_signing import SignatureError, signed_json_read, signed_json_write
from ask.core.private_files import make_private, private_dir

SEGMENT = re.compile(r"^[0-9A-F]{24}$")
HISTORY = re.compile(r"^[0-9A-F]{8}\.history$")
MANIFEST = "MANIFEST.json"
APPLICATION_NAME = "ask_wal_archive"


class ArchiveError(Exception):
    """The log cannot be archived or used; the message says what to do."""


def lsn_parse(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def segment_name(timeline: int, lsn: int, size: int) -> str:
    """The file name PostgreSQL gives the segment holding lsn (XLogFileName)."""
    per_id = 0x100000000 // size
    number = lsn // size
    return f"{timeline:08X}{number // per_id:08X}{number % per_id:08X}"


def segment_start(name: str, size: int) -> int:
    """The position a segment file begins at (the inverse of segment_name, timeline aside)."""
    return (int(name[8:16], 16) * (0x100000000 // size) + int(name[16:24], 16)) * size


def wal_dir() -> Path:
    return Path(settings.BACKUP_DIR) / "wal"


def slot_name() -> str:
    """The replication slot: a name of [a-z0-9_] per site, so two sites on one server keep theirs."""
    return re.sub(r"[^a-z0-9_]", "_", f"{settings.SITE_NAME}_wal_archive".lower())[:63]


def replication_env() -> dict:
    """libpq's variables for pg_receivewal and pg_basebackup: BACKUP_REPLICATION_URL's role and server."""
    db = dj_database_url.parse(settings.BACKUP_REPLICATION_URL)
    env = {**os.environ, "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or ""),
           "PGUSER": db.get("USER") or "", "PGPASSWORD": db.get("PASSWORD") or "", "PGDATABASE": db.get("NAME") or ""}
    return {k: v for k, v in env.items() if v != ""}


def sha256_prefix(path: Path, length: int) -> str:
    with path.open("rb") as handle:
        return hashlib.sha256(handle.read(length)).hexdigest()


def manifest_read(folder: Path | None = None) -> dict:
    """The archive's signed manifest; ArchiveError when there is none or it is not ours."""
    try:
        return signed_json_read((folder or wal_dir()) / MANIFEST)
    except SignatureError as error:
        raise ArchiveError(f"the WAL archive cannot be used: {error}") from None


@dataclass
class ArchivePass:
    """What one archive_wal run knows between its passes."""
    seen: list = field(default_factory=list)  # (server flush position, when) of each pass
    segments_added: int = 0
    lag_seconds: float | None = None


def _server_positions() -> tuple[int, datetime, int | None, int, int, str]:
    """The server's flush position and clock, the slot's confirmed position, timeline, segment size,
    system identifier, read in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_current_wal_flush_lsn()::text, clock_timestamp(), "
            "(SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = %s), "
            "pg_walfile_name(pg_current_wal_flush_lsn()), "
            "(SELECT setting::bigint * CASE unit WHEN 'MB' THEN 1048576 WHEN 'kB' THEN 1024 ELSE 1 END "
            " FROM pg_settings WHERE name = 'wal_segment_size'), "
            "(SELECT system_identifier::text FROM pg_control_system())", [slot_name()])
        flush, now, confirmed, walfile, size, system = cursor.fetchone()
    return lsn_parse(flush), now, lsn_parse(confirmed) if confirmed else None, int(walfile[:8], 16), size, system


def archive_pass(state: ArchivePass, folder: Path | None = None) -> int:
    """Sign what pg_receivewal has written since the last pass into the manifest; returns the
    segments added. The archive is "caught up at" the time of the latest pass whose server flush
    position the slot has confirmed since (pg_receivewal --synchronous confirms only what it fsynced)."""
    folder = folder or wal_dir()
    flush, now, confirmed, timeline, size, system = _server_positions()
    state.seen.append((flush, now))
    try:
        body = manifest_read(folder)
    except ArchiveError:
        if (folder / MANIFEST).exists():
            raise
        body = {"site": settings.SITE_NAME, "system": system, "segment_size": size, "segments": {}, "history": {},
                "partial": None, "covered_lsn": None, "caught_up_at": None}
    if body["system"] != system:
        raise ArchiveError(f"{folder} holds the log of another database cluster (system {body['system']}, the "
                           f"server is {system}): move that archive away before archiving this server's.")
    added = _sign_complete(folder, body)
    body["timeline"] = timeline
    body["partial"] = _sign_partial(folder, confirmed, size)
    covered = _covered(body, size)
    body["covered_lsn"] = lsn_text(covered) if covered is not None else None
    caught = [at for position, at in state.seen if covered is not None and position <= covered]
    if caught:
        body["caught_up_at"] = max(caught).isoformat()
        state.seen = [(position, at) for position, at in state.seen if at > max(caught)]
    signed_json_write(folder / MANIFEST, body)
    if body["caught_up_at"]:
        state.lag_seconds = max((now - datetime.fromisoformat(body["caught_up_at"])).total_seconds(), 0.0)
    archive_status_save(covered_lsn=body["covered_lsn"], caught_up_at=body["caught_up_at"])
    state.segments_added += added
    return added


def _sign_complete(folder: Path, body: dict) -> int:
    """Hash complete segments and timeline histories the manifest does not have yet."""
    added = 0
    for path in sorted(folder.iterdir()):
        book = body["segments"] if SEGMENT.match(path.name) else body["history"] if HISTORY.match(path.name) else None
        if book is None or path.name in book:
            continue
        make_private(path)
        book[path.name] = sha256_prefix(path, path.stat().st_size)
        added += 1
    return added


def _sign_partial(folder: Path, confirmed: int | None, size: int) -> dict | None:
    """The segment being written, as far as the slot confirms it flushed: name, length, digest."""
    partials = sorted(folder.glob("*.partial"))
    if not partials or confirmed is None:
        return None
    path = partials[-1]
    name = path.name.removesuffix(".partial")
    length = min(max(confirmed - segment_start(name, size), 0), size)
    try:
        make_private(path)
        digest = sha256_prefix(path, length)
    except FileNotFoundError:  # completed and renamed meanwhile: the next pass signs it whole
        return None
    return {"name": name, "length": length, "sha256": digest} if length else None


def _covered(body: dict, size: int) -> int | None:
    """The position up to which the signed files hold every byte of the log."""
    if body["partial"]:
        return segment_start(body["partial"]["name"], size) + body["partial"]["length"]
    if body["segments"]:
        return segment_start(max(body["segments"]), size) + size
    return None


class Receiver:
    """pg_receivewal streaming into the archive for the length of one job run."""

    def __init__(self, folder: Path | None = None) -> None:
        private_dir(Path(settings.BACKUP_DIR))  # its parent too: the archive holds every change ever made
        self.folder = private_dir(folder or wal_dir())
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = replication_env()
        made = subprocess.run(["pg_receivewal", "--create-slot", "--if-not-exists", f"--slot={slot_name()}"],
                              env=env, capture_output=True, text=True)
        if made.returncode:
            raise ArchiveError(f"pg_receivewal could not create the replication slot {slot_name()}: "
                               f"{made.stderr.strip()[-400:]} (README \"Backups\": the role needs REPLICATION and "
                               "pg_hba.conf a replication line)")
        self.proc = subprocess.Popen(
            ["pg_receivewal", f"--directory={self.folder}", f"--slot={slot_name()}", "--synchronous", "--no-loop",
             "--status-interval=1", f"--dbname=application_name={APPLICATION_NAME}"],
            env=env, stdout=self.log, stderr=self.log)

    def check(self) -> None:
        """ArchiveError with pg_receivewal's own words when it has stopped."""
        if self.proc and self.proc.poll() is not None:
            raise ArchiveError(f"pg_receivewal stopped (exit {self.proc.returncode}): {self.said()}")

    def said(self) -> str:
        self.log.seek(0)
        return self.log.read().strip()[-500:] or "nothing"

    def stop(self) -> None:
        """SIGINT: pg_receivewal flushes what it has and exits 0."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def archive_prune(keep_from: str | None, folder: Path | None = None) -> list[str]:
    """Delete the segments before keep_from (the oldest kept base backup's first segment) and drop
    them from the manifest; with no base backup kept, nothing (a restore needs one to start from)."""
    folder = folder or wal_dir()
    if not keep_from or not (folder / MANIFEST).exists():
        return []
    body = manifest_read(folder)
    doomed = sorted(name for name in body["segments"] if name[8:] < keep_from[8:])
    for name in doomed:
        del body["segments"][name]
    signed_json_write(folder / MANIFEST, body)  # first: a listed segment is never missing
    for name in doomed:
        (folder / name).unlink(missing_ok=True)
    return doomed


def caught_up_at(body: dict) -> datetime | None:
    return datetime.fromisoformat(body["caught_up_at"]) if body.get("caught_up_at") else None
