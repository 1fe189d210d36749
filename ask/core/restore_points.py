"""Named restore points: `mark_restore_point NAME` before a risky change (a migration, a bulk edit)
writes PostgreSQL's restore point into the log and a signed note of it into BACKUP_DIR/points, and
`restore_db --to-point NAME` brings the site back to exactly that moment (recovery_target_name), with
no clock to read off. The note lives beside the backups, so it is there when the database is not."""
import argparse
import re
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

from ask.core.backup_signing import SignatureError, signed_json_read, signed_json_write
from ask.core.backups import BackupError
from ask.core.private_files import UnsafePath, private_dir, private_open

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")


def point_name(raw: str) -> str:
    """NAME of --to-point and mark_restore_point: letters, digits, _ . - (60 at most)."""
    if not NAME.match(raw):
        raise argparse.ArgumentTypeError(f"{raw!r} is not a restore point name (letters, digits, _ . -; 60 at most, "
                                         "starting with a letter or digit)")
    return raw


def points_dir() -> Path:
    return Path(settings.BACKUP_DIR) / "points"


def restore_point_mark(name: str) -> dict:
    """Write the restore point into the log and its signed note; BackupError when the name is taken
    (recovery would stop at the first of two) or the role may not (the GRANT to run is named)."""
    if connection.vendor != "postgresql":
        raise BackupError("restore points are PostgreSQL's; SQLite is backed up by backup_db only.")
    private_dir(Path(settings.BACKUP_DIR))
    path = private_dir(points_dir()) / f"{name}.json"
    try:
        private_open(path, "x").close()  # the name taken first, atomically: two of one name stop recovery early
    except UnsafePath:
        raise BackupError(f"a restore point {name} exists already ({path}); choose another name.") from None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_create_restore_point(%s)::text, clock_timestamp(), "
                           "(SELECT system_identifier::text FROM pg_control_system())", [name])
            lsn, at, system = cursor.fetchone()
    except DatabaseError as error:
        path.unlink()
        role = connection.settings_dict["USER"]
        if "permission denied" in str(error):
            raise BackupError(f"the database role may not create restore points: as a superuser, GRANT EXECUTE ON "
                              f"FUNCTION pg_create_restore_point(text) TO {role};") from None
        raise BackupError(f"the server made no restore point: {str(error).strip().splitlines()[0]}") from None
    body = {"name": name, "lsn": lsn, "at": at.isoformat(), "system": system, "site": settings.SITE_NAME}
    signed_json_write(path, body)
    return body


def restore_point_read(name: str) -> dict:
    path = points_dir() / f"{name}.json"
    if not path.exists():
        known = sorted(p.stem for p in points_dir().glob("*.json")) if points_dir().is_dir() else []
        raise BackupError(f"no restore point {name} in {points_dir()} (known: {', '.join(known) or 'none'}).")
    try:
        body = signed_json_read(path)
    except SignatureError as error:
        raise BackupError(str(error)) from None
    if body.get("name") != name:
        raise BackupError(f"{path}: names the restore point {body.get('name')!r}, not {name!r}; refusing it.")
    return body
