"""verify_backup's check of continuous archiving: the newest base backup plus the archived log
restored into a scratch cluster to a moment of just now, and its rows per table compared with the
live database's as of that same moment.

"That same moment" exactly, while the site keeps writing: for an instant every table of the site is
locked against writes (SHARE mode, inside a savepoint; readers go on), the snapshot is taken and the
log's insert position read under the locks, and rolling back to the savepoint lets the writers go on
while the snapshot stays. Nothing was committed between the snapshot and that position, so the
rows the snapshot counts are the rows the log holds up to the position, which the restore stops
just before."""
import time

import psycopg2
import psycopg2.errors
from psycopg2 import extensions, sql

from ask.core.backups import BackupError, site_database
from ask.core.dump_verify import connect_to, public_tables, rows_per_table
from ask.core.pitr import restored_cluster
from ask.core.wal_archive import ArchiveError, lsn_parse, manifest_read

LOCK_TIMEOUT = "10s"  # writers wait this long at most behind the lock; verification fails rather than block
ARCHIVE_WAIT_SECONDS = 120


def live_moment() -> tuple[str, dict[str, int]]:
    """The log position of now and the rows per table as of it."""
    try:
        return _live_moment()
    except psycopg2.errors.LockNotAvailable:
        raise BackupError(f"writers held the site's tables for over {LOCK_TIMEOUT}, so no moment could be fixed "
                          "to compare the restore with; try again at a quieter time.") from None


def _live_moment() -> tuple[str, dict[str, int]]:
    with connect_to(site_database()["NAME"]) as conn:
        conn.set_session(isolation_level=extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        with conn.cursor() as cursor:
            cursor.execute("SAVEPOINT moment")
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            tables = _tables_without_snapshot()
            cursor.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(
                sql.SQL(", ").join(sql.SQL("public.{}").format(sql.Identifier(t)) for t in tables)))
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")  # the snapshot is taken here
            position = cursor.fetchone()[0]
            cursor.execute("ROLLBACK TO SAVEPOINT moment")  # the locks go; the snapshot stays
            counts = rows_per_table(cursor)
    conn.close()
    return position, counts


def _tables_without_snapshot() -> list[str]:
    """The table names, read on a connection of their own: a read on the moment's connection would
    fix its snapshot before the locks are taken."""
    with connect_to(site_database()["NAME"]) as other, other.cursor() as cursor:
        tables = public_tables(cursor)
    other.close()
    return tables


def wait_archived(position: str, timeout: float = ARCHIVE_WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while True:
        covered = manifest_read().get("covered_lsn")
        if covered and lsn_parse(covered) >= lsn_parse(position):
            return
        if time.monotonic() > deadline:
            raise ArchiveError(f"the archive did not reach {position} in {timeout:.0f} s (it covers up to "
                               f"{covered or 'nothing'}): is archive_wal running?")
        time.sleep(1)


def verify_point_in_time() -> tuple[object, dict[str, int]]:
    """Restore to just now and compare; returns the base backup used and the rows per table."""
    position, expected = live_moment()
    wait_archived(position)
    with restored_cluster(target_lsn=position) as cluster:
        with psycopg2.connect(**cluster.connect_kwargs()) as conn, conn.cursor() as cursor:
            restored = rows_per_table(cursor)
        conn.close()
        backup = cluster.backup
    wrong = {t: (n, restored.get(t)) for t, n in expected.items() if restored.get(t) != n}
    if wrong:
        raise BackupError(f"{backup.path.name} plus the archived log, restored to {position}, differs from the live "
                          f"database at that moment (table: live, restored): {wrong}")
    return backup, expected
