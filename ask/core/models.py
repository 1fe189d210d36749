from django.db import models


class BackupStatus(models.Model):
    """One row: how far the WAL archive has come and the newest backup verification passed, written by
    archive_wal and verify_backup and read by /healthz and `manage.py jobs` on every host (BACKUP_DIR
    may be on one host only; the database is on all)."""

    archive = models.CharField(max_length=32, blank=True)  # the WAL archive kept (its manifest's id)
    archive_host = models.CharField(max_length=255, blank=True)  # ... by this host's archive_wal, last
    covered_lsn = models.CharField(max_length=20, blank=True)  # the archive holds the log up to here
    caught_up_at = models.DateTimeField(null=True, blank=True)  # ... and everything committed before this
    archived_at = models.DateTimeField(null=True, blank=True)  # the archive's last pass
    verified_backup = models.CharField(max_length=200, blank=True)  # the newest backup verification passed
    verified_made_at = models.DateTimeField(null=True, blank=True)  # ... made then
    verified_at = models.DateTimeField(null=True, blank=True)  # ... verified then

    class Meta:
        verbose_name_plural = "backup status"

    def __str__(self) -> str:
        return f"archive to {self.covered_lsn or '-'}, verified {self.verified_backup or '-'}"


class ListTotal(models.Model):
    """A long list's counted total (ask.core.pagination.counted_total), kept here besides the cache:
    without the cache (down, flushed, restarting) a page reads it in one indexed query, where
    counting 1M questions took 340 ms a page (fill_db 100000). Counted again when older than the
    list's timeout, by the first page that finds it so."""

    key = models.CharField(max_length=100, primary_key=True)
    total = models.BigIntegerField()
    counted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.total}"
