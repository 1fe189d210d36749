"""The backups' state where operators look: /healthz and `manage.py jobs` show the newest verified
backup's age and the WAL archive's lag, and degrade (--check: exit 1) past their thresholds."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ask.core.models import BackupStatus

MONITOR = {"HTTP_AUTHORIZATION": "Bearer test-healthz-token"}


def backups(client) -> dict:
    return client.get("/healthz", **MONITOR).json()["checks"]["backups"]


@pytest.mark.django_db
def test_a_fresh_site_is_not_degraded_by_backups_it_has_not_made_yet(client, settings):
    settings.CRONJOBS, settings.BACKUP_WAL_ARCHIVE = [], False
    check = backups(client)
    assert check["ok"] and check["detail"] == "no backup verified yet"


@pytest.mark.django_db
def test_an_old_verified_backup_and_a_lagging_archive_degrade_healthz_and_fail_jobs_check(client, settings, capsys):
    settings.CRONJOBS, settings.BACKUP_WAL_ARCHIVE = [], True
    settings.BACKUP_VERIFIED_MAX_DAYS, settings.BACKUP_ARCHIVE_MAX_LAG_SECONDS = 8, 300
    now = timezone.now()
    BackupStatus.objects.create(pk=1, verified_backup="ask-20261128-023000.dump",
                                verified_made_at=now - timedelta(days=2), caught_up_at=now - timedelta(seconds=4))
    check = backups(client)
    assert check["ok"] and check["detail"] == ("newest verified backup ask-20261128-023000.dump, 2.0 days old; "
                                               "WAL archive 4 s behind")
    BackupStatus.objects.filter(pk=1).update(verified_made_at=now - timedelta(days=9),
                                             caught_up_at=now - timedelta(seconds=400))
    response = client.get("/healthz", **MONITOR)
    assert response.json()["status"] == "degraded"
    detail = response.json()["checks"]["backups"]["detail"]
    assert "the newest verified backup is 9.0 days old (over BACKUP_VERIFIED_MAX_DAYS = 8)" in detail
    assert "the WAL archive is 400 s behind (over BACKUP_ARCHIVE_MAX_LAG_SECONDS = 300)" in detail
    with pytest.raises(CommandError):
        call_command("jobs", "--check")
    out, err = capsys.readouterr()
    assert "backups: the newest verified backup is 9.0 days old" in out + err
