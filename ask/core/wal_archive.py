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
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import connection

from ask.core.backup_status import archive_status, archive_status_save
from ask.core.backups import libpq_env
from ask.core.backup_signing import SignatureError, signed_json_read, signed_json_write
from ask.core.private_files import open_plain, private_dir

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
    return libpq_env(dj_database_url.parse(settings.BACKUP_REPLICATION_URL))


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
    new_archive: bool = False  # --new-archive: begin an archive although the database names another


@dataclass
class Server:
    flush: int  # the server's flush position
    now: datetime
    confirmed: int | None  # what the slot says pg_receivewal has fsynced
    timeline: int
    size: int  # wal_segment_size
    system: str  # system identifier: which cluster the log is of


def server_positions() -> Server:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_current_wal_flush_lsn()::text, clock_timestamp(), "
            "(SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = %s), "
            "pg_walfile_name(pg_current_wal_flush_lsn()), "
            "(SELECT setting::bigint * CASE unit WHEN 'MB' THEN 1048576 WHEN 'kB' THEN 1024 ELSE 1 END "
            " FROM pg_settings WHERE name = 'wal_segment_size'), "
            "(SELECT system_identifier::text FROM pg_control_system())", [slot_name()])
        flush, now, confirmed, walfile, size, system = cursor.fetchone()
    return Server(lsn_parse(flush), now, lsn_parse(confirmed) if confirmed else None, int(walfile[:8], 16), size,
                  system)


def read_regular(path: Path) -> bytes:
    """The whole file, read once, never through a link nor from anything but a regular file: what is
    hashed is what is used."""
    try:
        with open_plain(path) as handle:
            return handle.read()
    except OSError as error:
        raise ArchiveError(f"{error}; move it away.") from None


def folder_check(folder: Path) -> None:
    """Only what pg_receivewal and this module write, as plain files: a link planted there would have
    pg_receivewal write the log through it, and anything else is no part of the archive."""
    for entry in os.scandir(folder):
        name = entry.name
        known = (SEGMENT.match(name.removesuffix(".partial")) or HISTORY.match(name)
                 or name in (MANIFEST, MANIFEST + ".tmp"))
        if not known or not entry.is_file(follow_symlinks=False):
            raise ArchiveError(f"{entry.path}: not a file of the WAL archive (a link, a folder or another name); "
                               f"move it away. Only the site's user may write into {folder}.")


def successor(name: str, size: int) -> str:
    return segment_name(int(name[:8], 16), segment_start(name, size) + size, size)


def archive_pass(state: ArchivePass, folder: Path | None = None) -> int:
    """Sign what pg_receivewal has written since the last pass into the manifest; returns the
    segments added. The archive is "caught up at" the time of the latest pass whose server flush
    position the slot has confirmed since (pg_receivewal --synchronous confirms only what it fsynced)."""
    folder = folder or wal_dir()
    server = server_positions()
    state.seen.append((server.flush, server.now))
    folder_check(folder)
    body = _manifest_for(folder, server, state)
    added = _sign_complete(folder, body, server)
    body["timeline"] = server.timeline
    body["partial"] = _sign_partial(folder, body, server)
    covered = _covered(body)
    body["covered_lsn"] = lsn_text(covered) if covered is not None else None
    caught = [at for position, at in state.seen if covered is not None and position <= covered]
    if caught:
        body["caught_up_at"] = max(caught).isoformat()
        state.seen = [(position, at) for position, at in state.seen if at > max(caught)]
    signed_json_write(folder / MANIFEST, body)
    if body["caught_up_at"]:
        state.lag_seconds = max((server.now - datetime.fromisoformat(body["caught_up_at"])).total_seconds(), 0.0)
    archive_status_save(archive=body["archive"], covered_lsn=body["covered_lsn"], caught_up_at=body["caught_up_at"])
    state.segments_added += added
    return added


def _manifest_for(folder: Path, server: Server, state: ArchivePass) -> dict:
    """This folder's manifest, if it is the archive the database knows (BackupStatus.archive: one folder
    shared by every host, never an older copy put back); a new one only in an empty folder."""
    known = archive_status()
    if not (folder / MANIFEST).exists():
        if any(SEGMENT.match(p.name.removesuffix(".partial")) for p in folder.iterdir() if p.name != MANIFEST):
            raise ArchiveError(f"{folder} holds log files but no manifest: they cannot be vouched for; move them "
                               "away (archive_wal --new-archive moves the whole folder aside).")
        if known.archive and not state.new_archive:
            raise ArchiveError(f"{folder} holds no archive, but the database says archive {known.archive} is kept "
                               f"(last by {known.archive_host or 'a host'}): BACKUP_DIR must be one folder shared by "
                               "every host that runs archive_wal. To begin a new archive on purpose: archive_wal "
                               "--new-archive.")
        return {"site": settings.SITE_NAME, "archive": uuid.uuid4().hex, "system": server.system,
                "segment_size": server.size,
                # pg_receivewal begins at the slot's position (an older slot kept), else at the server's
                "start_lsn": lsn_text(min(server.flush, server.confirmed or server.flush)),
                "segments": {}, "history": {},
                "partial": None, "covered_lsn": None, "caught_up_at": None}
    body = manifest_read(folder)
    if body["system"] != server.system:
        raise ArchiveError(f"{folder} holds the log of another database cluster (system {body['system']}, the "
                           f"server is {server.system}): archive_wal --new-archive moves it aside.")
    if known.archive and body["archive"] != known.archive and not state.new_archive:
        raise ArchiveError(f"{folder} holds archive {body['archive']}, but the database says archive {known.archive} "
                           f"is kept (last by {known.archive_host or 'a host'}): BACKUP_DIR must be one folder shared "
                           "by every host that runs archive_wal.")
    if (known.archive == body["archive"] and known.covered_lsn and body["covered_lsn"]
            and lsn_parse(body["covered_lsn"]) < lsn_parse(known.covered_lsn)):
        raise ArchiveError(f"{folder / MANIFEST} covers up to {body['covered_lsn']}, but the archive had reached "
                           f"{known.covered_lsn}: an older manifest was put back; refusing to sign over it.")
    return body


def _sign_complete(folder: Path, body: dict, server: Server) -> int:
    """Hash the segments pg_receivewal has completed, each only once the slot confirms it fsynced all
    of it and no .partial of that name is left, and only if it continues the archive (_continues),
    its part signed while it was written unchanged."""
    added = 0
    history = f"{server.timeline:08X}.history"
    if (folder / history).exists() and history not in body["history"]:
        body["history"][history] = hashlib.sha256(read_regular(folder / history)).hexdigest()
    new = sorted((p.name for p in folder.iterdir() if SEGMENT.match(p.name) and p.name not in body["segments"]),
                 key=lambda name: (name[8:], name[:8]))
    for name in new:
        confirmed = server.confirmed is not None and segment_start(name, server.size) + server.size <= server.confirmed
        if not confirmed or (folder / f"{name}.partial").exists():
            continue  # still being written (or not yet confirmed): a later pass
        if not _continues(name, body, server):
            raise ArchiveError(f"{folder / name}: not the next segment of the archive (expected "
                               f"{_next_expected(body)}); the log has a hole or a stranger's file: move it away, "
                               "then take a base backup.")
        data = read_regular(folder / name)
        partial = body["partial"]
        if partial and partial["name"] == name and \
                hashlib.sha256(data[:partial["length"]]).hexdigest() != partial["sha256"]:
            raise ArchiveError(f"{folder / name}: differs from what was signed of it while it was written.")
        body["segments"][name] = hashlib.sha256(data).hexdigest()
        if partial and (partial["name"] == name or partial["name"][:8] != name[:8]):
            body["partial"] = None  # completed, or the old timeline's, left behind at a switch
        added += 1
    return added


def _continues(name: str, body: dict, server: Server) -> bool:
    """name is the next segment of the archive; or, after a switch of timeline (a failover), the
    server's new timeline's segment at or before that position, once its history file is signed; or
    a new archive's first, not before where the archive began."""
    expected = _next_expected(body)
    if expected is None:
        return segment_start(name, server.size) + server.size > lsn_parse(body["start_lsn"])
    switched = (name[:8] != expected[:8] and int(name[:8], 16) == server.timeline
                and f"{server.timeline:08X}.history" in body["history"] and name[8:] <= expected[8:])
    return name == expected or switched


def _next_expected(body: dict) -> str | None:
    size = body["segment_size"]
    if body["partial"]:
        return body["partial"]["name"]
    if body["segments"]:
        return successor(max(body["segments"], key=lambda name: (name[8:], name[:8])), size)
    return None


def _sign_partial(folder: Path, body: dict, server: Server) -> dict | None:
    """The segment being written, as far as the slot confirms it flushed: name, length, digest. Only
    the segment the server says is being archived, continuing the archive, its signed part unchanged."""
    if server.confirmed is None or server.confirmed % server.size == 0:
        return body["partial"]
    name = segment_name(server.timeline, server.confirmed, server.size)
    path = folder / f"{name}.partial"
    if not _continues(name, body, server) or not path.exists():
        return body["partial"]  # not written yet, or completed meanwhile: the next pass signs it
    try:
        data = read_regular(path)
    except ArchiveError:
        if not path.exists():  # renamed whole between the look and the read
            return body["partial"]
        raise
    length = server.confirmed - segment_start(name, server.size)
    previous = body["partial"] if body["partial"] and body["partial"]["name"] == name else None
    if previous and hashlib.sha256(data[:previous["length"]]).hexdigest() != previous["sha256"]:
        raise ArchiveError(f"{path}: differs from what was signed of it earlier in its writing.")
    if previous and length <= previous["length"]:
        return previous  # a restarted pg_receivewal confirms from the segment's start again, for a moment
    if len(data) < length:
        raise ArchiveError(f"{path}: shorter than what the server says was written into it.")
    return {"name": name, "length": length, "sha256": hashlib.sha256(data[:length]).hexdigest()}


def _covered(body: dict) -> int | None:
    """The position up to which the signed files hold every byte of the log."""
    size = body["segment_size"]
    ends = [segment_start(name, size) + size for name in body["segments"]]
    if body["partial"]:
        ends.append(segment_start(body["partial"]["name"], size) + body["partial"]["length"])
    return max(ends, default=None)


def _die_with_parent() -> None:
    """pg_receivewal gets SIGTERM when its job dies, even by SIGKILL: left behind, it would hold the
    slot, and every later run on every host would be refused."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def archive_begin_new(folder: Path | None = None) -> Path | None:
    """--new-archive: the folder's old archive moved aside (never deleted), so a new one begins."""
    folder = folder or wal_dir()
    if not folder.exists() or not any(folder.iterdir()):
        return None
    aside = folder.with_name(f"{folder.name}-before-{datetime.now():%Y%m%d-%H%M%S}")
    folder.rename(aside)
    return aside


class Receiver:
    """pg_receivewal streaming into the archive for the length of one job run."""

    def __init__(self, folder: Path | None = None) -> None:
        private_dir(Path(settings.BACKUP_DIR))  # its parent too: the archive holds every change ever made
        self.folder = private_dir(folder or wal_dir())
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        folder_check(self.folder)
        env = replication_env()
        if not shutil.which("pg_receivewal"):
            raise ArchiveError("pg_receivewal is not installed: apt-get install postgresql-client (the server's "
                               "version).")
        made = subprocess.run(["pg_receivewal", "--create-slot", "--if-not-exists", f"--slot={slot_name()}"],
                              env=env, capture_output=True, text=True)
        if made.returncode:
            raise ArchiveError(f"pg_receivewal could not create the replication slot {slot_name()}: "
                               f"{made.stderr.strip()[-400:]} (README \"Backups\": the role needs REPLICATION and "
                               "pg_hba.conf a replication line)")
        self.proc = subprocess.Popen(
            ["pg_receivewal", f"--directory={self.folder}", f"--slot={slot_name()}", "--synchronous", "--no-loop",
             "--status-interval=1", f"--dbname=application_name={APPLICATION_NAME}"],
            env=env, stdout=self.log, stderr=self.log, preexec_fn=_die_with_parent)

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


def archive_prune(keep_from: str | None, folder: Path | None = None, *, dry_run: bool = False) -> list[str]:
    """Delete the segments before keep_from (the oldest kept base backup's first segment) and drop
    them from the manifest; with no base backup kept, nothing (a restore needs one to start from).
    dry_run: only name them."""
    folder = folder or wal_dir()
    if not keep_from or not (folder / MANIFEST).exists():
        return []
    body = manifest_read(folder)
    doomed = sorted(name for name in body["segments"] if name[8:] < keep_from[8:])
    if dry_run:
        return doomed
    for name in doomed:
        del body["segments"][name]
    signed_json_write(folder / MANIFEST, body)  # first: a listed segment is never missing
    for name in doomed:
        (folder / name).unlink(missing_ok=True)
    return doomed


def caught_up_at(body: dict) -> datetime | None:
    return datetime.fromisoformat(body["caught_up_at"]) if body.get("caught_up_at") else None
