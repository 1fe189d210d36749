"""Continuous archiving and restores to a moment, on a PostgreSQL cluster of the test's own: the log
streamed by archive_wal, a base backup, rows written seconds apart, then restore_db --to a time
between two writes brings back exactly the rows before it, and the uploads; a time outside what the
archive covers is refused, naming what it covers."""
import signal
import threading
import time
from datetime import datetime, timedelta

import pytest

from ask.core.wal_archive import MANIFEST
from tests.pg_cluster import own_postgres
from tests.support import manage, process_env, start_manage, wait_for

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
    said = ok(manage("restore_db", "--to", between.isoformat(), "--database", "restored", "--yes", env=site.env,
                     timeout=180))
    assert "restored" in said and "from ask-base-" in said
    assert [row[0] for row in site.query("SELECT n FROM probe ORDER BY n", dbname="restored")] == [0, 1, 2]
    assert avatar.read_bytes() == b"\x89PNG avatar", "the uploads came back"

    too_early = written[0] - timedelta(hours=1)
    refused = manage("restore_db", "--to", too_early.isoformat(), "--database", "restored", "--yes", env=site.env)
    assert refused.returncode != 0
    assert "outside what the archive covers:" in refused.stderr and " to " in refused.stderr, refused.stderr
    assert [row[0] for row in site.query("SELECT n FROM probe ORDER BY n", dbname="restored")] == [0, 1, 2], \
        "a refused restore changes nothing"


def test_archive_wal_is_off_unless_configured(site):
    env = {**site.env, "BACKUP_WAL_ARCHIVE": "false"}
    said = ok(manage("archive_wal", env=env))
    assert "continuous archiving is off" in said
    assert not (site.var_dir / "backups" / "wal").exists()


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
        assert (base / "VERIFIED").is_file(), "rotation keeps the newest verified base backup"
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


def test_the_doctor_names_what_the_server_lacks_and_a_slot_left_behind(site):
    said = manage("jobs", "--doctor", env=site.env).stdout
    assert "ok       continuous archiving: replication connection as postgres allowed" in said
    assert "PROBLEM  continuous archiving: max_slot_wal_keep_size = -1" in said, said
    site.query("SELECT pg_create_physical_replication_slot('ask_wal_archive', true)")
    said = manage("jobs", "--doctor", env={**site.env, "BACKUP_WAL_ARCHIVE": "false"}).stdout
    assert "archiving is off, but its replication slot ask_wal_archive still keeps" in said, said
    assert "SELECT pg_drop_replication_slot('ask_wal_archive');" in said
