"""Fixtures of the machinery's tests."""
import pytest


@pytest.fixture
def backup_dir(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_SIGNING_KEY_FILE = tmp_path / "keys" / "backup-signing-key"
    return settings.BACKUP_DIR
