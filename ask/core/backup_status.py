"""The backups' state in the database (BackupStatus, one row), and the /healthz check reading it."""
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from ask.core.models import BackupStatus


def _row() -> BackupStatus:
    return BackupStatus.objects.get_or_create(pk=1)[0]


def archive_status() -> BackupStatus:
    return _row()


def archive_status_save(*, archive: str, covered_lsn: str | None, caught_up_at: str | None) -> None:
    BackupStatus.objects.update_or_create(pk=1, defaults={
        "archive": archive, "archive_host": settings.HOST_NAME, "covered_lsn": covered_lsn or "",
        "archived_at": timezone.now(), "caught_up_at": datetime.fromisoformat(caught_up_at) if caught_up_at else None})


def verified_status_save(*, name: str, made_at: datetime | None) -> None:
    """A backup passed verification: it becomes the newest verified one unless a newer one passed."""
    row = _row()
    if row.verified_made_at and made_at and made_at < row.verified_made_at:
        return
    row.verified_backup, row.verified_made_at, row.verified_at = name, made_at, timezone.now()
    row.save(update_fields=["verified_backup", "verified_made_at", "verified_at"])


def _age(at: datetime | None) -> float | None:
    return round((timezone.now() - at).total_seconds(), 1) if at else None


def backups_health() -> tuple[bool, str, dict]:
    """The archive's lag (when continuous archiving is on) and the newest verified backup's age, each
    against its threshold (BACKUP_ARCHIVE_MAX_LAG_SECONDS, BACKUP_VERIFIED_MAX_DAYS)."""
    row = _row()
    problems, data = [], {"verified_backup": row.verified_backup or None,
                          "verified_backup_age_seconds": _age(row.verified_made_at)}
    age = data["verified_backup_age_seconds"]
    # None: no verification yet (a new site); its first weekly verify_backup names a problem, if any.
    if age is not None and age > settings.BACKUP_VERIFIED_MAX_DAYS * 86400:
        problems.append(f"the newest verified backup is {age / 86400:.1f} days old "
                        f"(over BACKUP_VERIFIED_MAX_DAYS = {settings.BACKUP_VERIFIED_MAX_DAYS})")
    if settings.BACKUP_WAL_ARCHIVE:
        lag = data["archive_lag_seconds"] = _age(row.caught_up_at)
        if lag is None:
            problems.append("the WAL archive has not caught up with the server yet (archive_wal)")
        elif lag > settings.BACKUP_ARCHIVE_MAX_LAG_SECONDS:
            problems.append(f"the WAL archive is {lag:.0f} s behind (over BACKUP_ARCHIVE_MAX_LAG_SECONDS = "
                            f"{settings.BACKUP_ARCHIVE_MAX_LAG_SECONDS})")
    return not problems, "; ".join(problems) or _summary(data), data


def _summary(data: dict) -> str:
    """ "newest verified backup ask-20261206-023000.dump, 1.2 days old; WAL archive 2 s behind" """
    age = data["verified_backup_age_seconds"]
    said = [f"newest verified backup {data['verified_backup']}, {age / 86400:.1f} days old" if age is not None
            else "no backup verified yet"]
    if "archive_lag_seconds" in data:
        said.append(f"WAL archive {data['archive_lag_seconds']:.0f} s behind")
    return "; ".join(said)
