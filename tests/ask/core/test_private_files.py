"""Files with secrets in them are the site's user's alone, and never written through a planted link."""
import os
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from post_office.mail import send

from ask.core.private_files import UnsafePath, private_open, private_write


@pytest.mark.django_db
def test_mail_files_are_private_whatever_the_umask(settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    backend = "ask.core.mail_files.PrivateFileEmailBackend"
    settings.POST_OFFICE = {**settings.POST_OFFICE, "BACKENDS": {"default": backend, "one_time_link": backend}}
    old = os.umask(0)
    try:
        send(recipients=["ada@example.com"], sender="ask@example.com", subject="Reset", message="a reset link")
        call_command("send_queued_mail", stdout=StringIO())
    finally:
        os.umask(old)
    (mail,) = (tmp_path / "mail").iterdir()
    assert "a reset link" in mail.read_text()
    assert stat.S_IMODE(mail.stat().st_mode) == 0o600 and stat.S_IMODE((tmp_path / "mail").stat().st_mode) == 0o700


def test_a_planted_link_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "export.csv.partial"
    link.symlink_to(victim)
    with pytest.raises(UnsafePath, match="symbolic link"):
        private_open(link, "wb", replace=True)
    with pytest.raises(UnsafePath, match="symbolic link"):
        private_write(link, "overwritten")
    assert victim.read_text() == "precious" and link.is_symlink()
    taken = tmp_path / "taken"
    taken.write_text("someone's")
    with pytest.raises(UnsafePath, match="exists already"):
        private_open(taken, "wb")
