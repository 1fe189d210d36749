"""Continuous archiving and restores to a moment, on a PostgreSQL cluster of the test's own: the log
streamed by archive_wal, a base backup, rows written seconds apart, then restore_db --to a time
between two writes brings back exactly the rows before it, and the uploads; a time outside what the
archive covers is refused, naming what it covers."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2
import pytest

from ask.core.wal_archive import MANIFEST
from tests.pg_cluster import own_postgres
from tests.support import free_port, manage, process_env, start_manage, wait_for

pytestmark = [pytest.mark.slow]


@pytest.fixture
def site(transactional_db, var_dir):
    with own_postgres() as cluster:
        cluster.query("CREATE TABLE probe (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
        env = process_env(var_dir, DATABASE_URL=cluster.url, BACKUP_DIR=str(var_dir / "backups"),
                          BACKUP_WAL_ARCHIVE="true", MEMCACHED_SERVERS="", TIME_ZONE="UTC")
        cluster.env, cluster.var_dir = env, var_dir
        yield cluster


def write(site, n: int) -> datetime:
    """Row n, committed; the server's time of its commit."""
    return site.query("INSERT INTO probe (n) VALUES (%s) RETURNING at", (n,))[0][0]


def archived_to(site) -> datetime | None:
    rows = site.query("SELECT caught_up_at FROM core_backupstatus WHERE id = 1")
    return rows[0][0] if rows else None


def query_cluster(data: Path, sql: str) -> list:
    """sql on the cluster at data, started for it on a socket of its own and stopped after."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    port = free_port()
    subprocess.run([*as_postgres, bindir / "pg_ctl", "start", "-w", "-D", data, "-l", data / "log", "-o",
                    f"-p {port} -k {data} -c listen_addresses=''"], check=True, capture_output=True)
    try:
        with psycopg2.connect(host=str(data), port=port, user="postgres", dbname="ask") as conn:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
        conn.close()
        return rows
    finally:
        subprocess.run([*as_postgres, bindir / "pg_ctl", "stop", "-m", "fast", "-D", data], capture_output=True)


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_restore_to_a_moment_brings_back_exactly_the_rows_before_it_and_the_uploads(site):
    avatar = site.var_dir / "media" / "avatars" / "2026" / "12" / "a.png"
    avatar.parent.mkdir(parents=True)
    avatar.write_bytes(b"\x89PNG avatar")
    write(site, 0)
    streaming = start_manage("archive_wal", "--loop", "--max-seconds", "120", "--interval", "1", env=site.env)
    try:
        wait_for(lambda: archived_to(site), 20, what="the archive's first pass")
        ok(manage("base_backup", env=site.env, timeout=120))
        written = []
        for n in range(1, 5):
            time.sleep(1.5)
            written.append(write(site, n))
        wait_for(lambda: archived_to(site) > written[-1], 20, what="the archive caught up with the last write")
    finally:
        streaming.send_signal(signal.SIGTERM)
        assert streaming.wait(30) == 0, streaming.stderr.read()
    folder = site.var_dir / "backups" / "wal"
    assert (folder / MANIFEST).is_file()
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in folder.iterdir() if p.is_file())

    avatar.unlink()
    between = written[1] + (written[2] - written[1]) / 2  # after row 2, before row 3
    site.createdb("restored")
    said = ok(manage("restore_db", "--to", between.isoformat(), "--database", "restored", "--yes", "--uploads",
                     env=site.env, timeout=180))
    assert "restored" in said and "from ask-base-" in said
    assert [row[0] for row in site.query("SELECT n FROM probe ORDER BY n", dbname="restored")] == [0, 1, 2]
    assert avatar.read_bytes() == b"\x89PNG avatar", "the uploads came back"

    folder = Path(tempfile.mkdtemp(prefix="ask-restored-"))
    try:
        if os.getuid() == 0:
            shutil.chown(folder, "postgres")  # the server runs as postgres: a folder it can enter
        between = written[0] + (written[1] - written[0]) / 2
        said = ok(manage("restore_db", "--to", between.isoformat(), "--cluster", str(folder / "data"), env=site.env,
                         timeout=180))
        assert f"into a new cluster at {folder / 'data'} (stopped; start it with pg_ctl" in said
        assert [row[0] for row in query_cluster(folder / "data", "SELECT n FROM probe ORDER BY n")] == [0, 1]
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    too_early = written[0] - timedelta(hours=1)
    refused = manage("restore_db", "--to", too_early.isoformat(), "--database", "restored", "--yes", env=site.env)
    assert refused.returncode != 0
    assert "outside what the archive covers:" in refused.stderr and " to " in refused.stderr, refused.stderr
    assert [row[0] for row in site.query("SELECT n FROM probe ORDER BY n", dbname="restored")] == [0, 1, 2], \
        "a refused restore changes nothing"


def test_archive_wal_and_base_backup_do_nothing_unless_configured(site):
    env = {**site.env, "BACKUP_WAL_ARCHIVE": "false"}
    assert "continuous archiving is off" in ok(manage("archive_wal", env=env))
    assert "continuous archiving is off" in ok(manage("base_backup", env=env))
    assert not (site.var_dir / "backups").exists()
    assert not site.query("SELECT 1 FROM pg_replication_slots"), "no slot keeping log on the server"


def test_verify_backup_restores_to_just_now_while_the_site_writes_and_refuses_a_damaged_log(site):
    streaming = start_manage("archive_wal", "--loop", "--max-seconds", "180", "--interval", "1", env=site.env)
    stop, count = threading.Event(), [0]

    def writer() -> None:  # the site writing all along, as it would on a Sunday morning
        while not stop.is_set():
            count[0] += 1
            write(site, count[0])
            time.sleep(0.02)

    try:
        wait_for(lambda: archived_to(site), 20, what="the archive's first pass")
        ok(manage("base_backup", env=site.env, timeout=120))
        ok(manage("backup_db", env=site.env, timeout=120))
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        said = ok(manage("verify_backup", env=site.env, timeout=300))
        assert "plus the archived log, restored to just now, holds the live database's" in said
        stop.set()
        thread.join(10)
        assert count[0] > 20, "the site wrote throughout"
        base = next((site.var_dir / "backups" / "base").glob("ask-base-*"))
        assert (base / "VERIFIED.json").is_file(), "rotation keeps the newest verified base backup"
        status = site.query("SELECT verified_backup FROM core_backupstatus WHERE id = 1")[0][0]
        assert status.startswith("ask-")

        wal = site.var_dir / "backups" / "wal"
        segment = sorted(p for p in wal.iterdir() if len(p.name) == 24)[-1]
        damaged = bytearray(segment.read_bytes())
        damaged[100] ^= 0xFF
        segment.write_bytes(bytes(damaged))
        refused = manage("verify_backup", env=site.env, timeout=300)
        assert refused.returncode != 0 and f"{segment.name}: not what the archive's manifest signed" in \
            refused.stderr, refused.stderr
    finally:
        stop.set()
        streaming.send_signal(signal.SIGTERM)
        streaming.wait(30)


def test_the_doctor_names_what_the_server_lacks_and_a_slot_left_behind_and_base_backup_needs_the_slot(site):
    said = manage("jobs", "--doctor", env=site.env).stdout
    assert "ok       continuous archiving: replication connection as postgres allowed" in said
    assert "PROBLEM  continuous archiving: max_slot_wal_keep_size = -1" in said, said
    refused = manage("base_backup", env=site.env)
    assert "archive_wal must have run before a base backup" in refused.stderr, refused.stderr
    site.query("SELECT pg_create_physical_replication_slot('ask_wal_archive', true)")
    said = manage("jobs", "--doctor", env={**site.env, "BACKUP_WAL_ARCHIVE": "false"}).stdout
    assert "archiving is off, but its replication slot ask_wal_archive still keeps" in said, said
    assert "SELECT pg_drop_replication_slot('ask_wal_archive');" in said


def test_the_archive_signs_only_what_pg_receivewal_wrote_and_refuses_a_split_or_rolled_back_archive(site):
    wal = site.var_dir / "backups" / "wal"
    ok(manage("archive_wal", env=site.env))
    old_manifest = (wal / MANIFEST).read_bytes()
    ok(manage("base_backup", env=site.env, timeout=120))
    write(site, 1)
    ok(manage("archive_wal", env=site.env))
    signed = json.loads((wal / MANIFEST).read_text())["body"]["segments"]

    (wal / "000000010000000000000099").write_bytes(b"\0" * 100)  # a stranger's segment, ahead of the stream
    ok(manage("archive_wal", env=site.env))  # never signed: the slot has not confirmed that far
    assert "000000010000000000000099" not in json.loads((wal / MANIFEST).read_text())["body"]["segments"]
    (wal / "000000010000000000000099").unlink()
    (wal / "000000010000000000000000").write_bytes(b"\0" * 100)  # behind it, and not the archive's
    refused = manage("archive_wal", env=site.env)
    assert refused.returncode == 1 and "000000010000000000000000: not the next segment of the archive" in \
        refused.stderr, refused.stderr
    (wal / "000000010000000000000000").unlink()
    (wal / "000000010000000000000098.partial").symlink_to(site.var_dir / "elsewhere")
    refused = manage("archive_wal", env=site.env)
    assert "000000010000000000000098.partial: not a file of the WAL archive (a link" in refused.stderr
    (wal / "000000010000000000000098.partial").unlink()
    now_signed = json.loads((wal / MANIFEST).read_text())["body"]
    assert set(now_signed["segments"]) <= set(signed), "nothing of theirs signed (older segments may be pruned)"
    assert not (now_signed["partial"] or {}).get("name", "").endswith("98")

    current = (wal / MANIFEST).read_bytes()
    (wal / MANIFEST).write_bytes(old_manifest)  # an older copy put back: its signature is good
    refused = manage("archive_wal", env=site.env)
    assert "an older manifest was put back; refusing to sign over it" in refused.stderr, refused.stderr
    (wal / MANIFEST).write_bytes(current)

    other = {**site.env, "BACKUP_DIR": str(site.var_dir / "host2-backups")}  # a host with a folder of its own
    refused = manage("archive_wal", env=other)
    assert "BACKUP_DIR must be one folder shared by every host that runs archive_wal" in refused.stderr

    ok(manage("archive_wal", env=site.env))
    first = min(json.loads((wal / MANIFEST).read_text())["body"]["segments"])
    (wal / first).rename(site.var_dir / "away")  # a hole in the log the base backup needs
    refused = manage("restore_db", "--to", archived_to(site).isoformat(), "--database", "ask", "--yes", env=site.env)
    assert refused.returncode == 1 and "the archived log has a hole at segment" in refused.stderr, refused.stderr
    assert site.query("SELECT count(*) FROM probe")[0][0] == 1, "nothing was replaced"


def test_a_named_restore_point_brings_back_exactly_that_moment(site):
    streaming = start_manage("archive_wal", "--loop", "--max-seconds", "120", "--interval", "1", env=site.env)
    try:
        wait_for(lambda: archived_to(site), 20, what="the archive's first pass")
        ok(manage("base_backup", env=site.env, timeout=120))
        write(site, 1)
        said = ok(manage("mark_restore_point", "before-change", env=site.env))
        assert said.startswith("mark_restore_point: marked the restore point before-change at ")
        refused = manage("mark_restore_point", "before-change", env=site.env)
        assert "a restore point before-change exists already" in refused.stderr
        written = write(site, 2)
        wait_for(lambda: archived_to(site) > written, 20, what="the archive caught up with the last write")
    finally:
        streaming.send_signal(signal.SIGTERM)
        streaming.wait(30)
    site.createdb("restored")
    said = ok(manage("restore_db", "--to-point", "before-change", "--database", "restored", "--yes", env=site.env,
                     timeout=180))
    assert "restored the restore point before-change from ask-base-" in said
    assert [row[0] for row in site.query("SELECT n FROM probe ORDER BY n", dbname="restored")] == [1]
    refused = manage("restore_db", "--to-point", "nonesuch", "--database", "restored", "--yes", env=site.env)
    assert "no restore point nonesuch in " in refused.stderr and "(known: before-change)" in refused.stderr
    refused = manage("restore_db", "--to-point", "../etc", "--database", "restored", "--yes", env=site.env)
    assert refused.returncode == 2 and "is not a restore point name" in refused.stderr
