"""restore_db's two ways back: a dump (backup_db's file) or a moment (base backup plus archived log).
Over the site's own database the uploads are put back and the caches cleared; into another database
or a new cluster, the live uploads are left alone unless asked (--uploads)."""
import argparse
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from ask.core.backups import (BackupError, backup_made, backup_restore, media_path, pg_restore_into, signed_digest,
                              site_database)
from ask.core.base_backups import BaseBackup
from ask.core.caching import caches_clear
from ask.core.databases import database_label
from ask.core.media_archive import media_archive_restore
from ask.core.pitr import restored_cluster
from ask.core.restore_points import restore_point_read


def moment(raw: str) -> datetime:
    """--to TIME: "YYYY-MM-DD HH:MM[:SS]", in TIME_ZONE unless it names its offset."""
    try:
        when = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f'{raw!r} is not a time like "2026-12-01 21:58:00"') from None
    return when if timezone.is_aware(when) else timezone.make_aware(when)


def _after_site_restore(job, done: str, into: str | None) -> str:
    if into:
        return done
    problems = caches_clear()
    for problem in problems:
        job.stderr.write(f"restore_db: {problem}: pages may show content of before the restore for up "
                         "to 10 min; clear it by hand (restart memcached)")
    cleared = "the caches were NOT all cleared" if problems else "the site's caches cleared"
    return f"{done}; {cleared} (start cron again on every host if you stopped it)"


def _uploads(put_back: bool, archive: Path, digest: str | None) -> str:
    if not put_back:
        return "; the live uploads left as they are (--uploads puts the backup's back)"
    if digest is None:
        return "; no uploads in that backup"
    return f"; {media_archive_restore(archive, digest)} upload(s) put back"


def dump_restore(job, path: Path, *, database: str | None, uploads: bool) -> str:
    media = media_path(path)
    digest = signed_digest(media) if media.exists() else None  # before anything is replaced: a bad one stops it
    backup_restore(path=path, database=database)
    said = _uploads(uploads or not database, media, digest)
    return _after_site_restore(job, f"restored {path.name} ({backup_made(path)}) into the "
                                    f"{database_label(database)}{said}", database)


def moment_restore(job, when: datetime | None, *, point: str | None, database: str | None, cluster: Path | None,
                   uploads: bool) -> str:
    """To the moment `when`, or to the restore point named `point`."""
    target = {"point": restore_point_read(point)} if point else {"target_time": when}
    stamp = f"the restore point {point}" if point else f"{timezone.localtime(when):%Y-%m-%d %H:%M:%S %Z}"
    if cluster:
        with restored_cluster(**target, keep_at=cluster) as restored:
            backup = restored.backup
        return (f"restored {stamp} from {backup.path.name} and the archived log into a new cluster at {cluster} "
                f"(stopped; start it with pg_ctl -D {cluster} start, with a port of its own)"
                f"{_base_uploads(uploads, backup)}")
    backup = _into_database(target, database or site_database()["NAME"])
    return _after_site_restore(job, f"restored {stamp} from {backup.path.name} and the archived log into the "
                                    f"{database_label(database)}{_base_uploads(uploads or not database, backup)}",
                               database)


def _base_uploads(put_back: bool, backup: BaseBackup) -> str:
    return _uploads(put_back, backup.path / "media.tar", backup.info["files"].get("media.tar"))


def _into_database(target: dict, database: str) -> BaseBackup:
    """The site's data as it was at target (restored_cluster's), copied from the restored cluster into
    database (replacing what it holds, in one transaction); returns the base backup used."""
    with restored_cluster(**target) as cluster, tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "restored.dump"
        kwargs = cluster.connect_kwargs()
        done = subprocess.run(["pg_dump", "--format=custom", "--compress=0", "--no-owner", f"--file={dump}",
                               f"--host={kwargs['host']}", f"--port={kwargs['port']}", f"--username={kwargs['user']}",
                               kwargs["dbname"]], capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_dump of the restored cluster failed: {done.stderr.strip()[-500:]}")
        pg_restore_into(dump, database)
        return cluster.backup
