"""restore_db's two ways back: a dump (backup_db's file) or a moment (base backup plus archived log),
each with the uploads put back and, over the site's own database, its caches cleared."""
import argparse
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from ask.core.backups import backup_made, backup_restore, media_path, site_database
from ask.core.caching import caches_clear
from ask.core.databases import database_label
from ask.core.media_archive import media_archive_restore
from ask.core.pitr import restore_into_cluster, restore_into_database



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


def dump_restore(job, path: Path, *, database: str | None) -> str:
    backup_restore(path=path, database=database)
    media = media_path(path)
    uploads = f", {media_archive_restore(media)} upload(s) put back" if media.is_file() else ""
    return _after_site_restore(job, f"restored {path.name} ({backup_made(path)}) into the "
                                    f"{database_label(database)}{uploads}", database)


def moment_restore(job, when: datetime, *, database: str | None, cluster: Path | None) -> str:
    stamp = f"{timezone.localtime(when):%Y-%m-%d %H:%M:%S %Z}"
    if cluster:
        backup = restore_into_cluster(when, cluster)
        return (f"restored {stamp} from {backup.path.name} and the archived log into a new cluster at {cluster} "
                f"(stopped; start it with pg_ctl -D {cluster} start, with a port of its own)")
    backup = restore_into_database(when, database or site_database()["NAME"])
    return _after_site_restore(job, f"restored {stamp} from {backup.path.name} and the archived log into the "
                                    f"{database_label(database)}", database)
