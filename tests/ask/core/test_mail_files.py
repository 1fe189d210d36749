"""The embedded site's mail files: one per mail, named by time, address and subject; the sign-up page says where."""
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from post_office.mail import send

from ask.core.mail_files import mail_folder

pytestmark = pytest.mark.django_db

FILES = "ask.core.mail_files.PrivateFileEmailBackend"


@pytest.fixture
def mail_dir(settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.POST_OFFICE = {**settings.POST_OFFICE, "BACKENDS": {"default": FILES, "one_time_link": FILES}}
    return tmp_path / "mail"


def test_each_mail_gets_a_file_named_by_time_address_and_subject(mail_dir):
    for subject in ("Activate your account", "Activate your account", "Your order 12 / was delivered!"):
        send(recipients=["Ada.L@Example.com"], sender="ask@example.com", subject=subject, message=f"{subject} body")
    call_command("send_queued_mail", stdout=StringIO())
    names = sorted(path.name for path in mail_dir.iterdir())
    assert len(names) == 3
    assert all(re.fullmatch(r"\d{8}-\d{6}-ada\.l-example\.com-[a-z0-9-]+(-\d)?\.eml", name) for name in names), names
    assert sum("activate-your-account" in name for name in names) == 2
    assert any(name.endswith("-your-order-12-was-delivered.eml") for name in names)
    for path in mail_dir.iterdir():
        assert path.read_text().count("Subject:") == 1, "one mail per file"


def test_the_sign_up_page_says_where_mail_went_only_when_it_is_written_to_files(mail_dir, settings):
    assert mail_folder() == str(mail_dir)
    page = Client().get("/accounts/signup/done/").content.decode()
    assert f"<code>{mail_dir}</code>" in page
    settings.POST_OFFICE = {**settings.POST_OFFICE, "BACKENDS": {
        "default": "django.core.mail.backends.smtp.EmailBackend",
        "one_time_link": "django.core.mail.backends.smtp.EmailBackend"}}
    assert mail_folder() is None
    assert "without a mail server" not in Client().get("/accounts/signup/done/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_idle_mail_job_prints_nothing_and_a_written_mail_is_one_line_naming_its_file(tmp_path):
    from tests.support import manage, process_env

    env = process_env(tmp_path, EMAIL_HOST="", LOG_FILE="")  # the file backend; the log on stderr
    idle = manage("send_queued_mail", "--loop", "--max-seconds", "2", "--interval", "0.5", "--verbosity", "0",
                  env=env, timeout=60)
    assert (idle.returncode, idle.stdout, idle.stderr) == (0, "", "")
    send(recipients=["grace@example.com"], sender="ask@example.com", subject="Activate your account",
         message="the link")
    busy = manage("send_queued_mail", "--verbosity", "0", env=env, timeout=60)
    lines = busy.stderr.splitlines()
    assert len(lines) == 1 and "mail to grace@example.com (Activate your account) written to " in lines[0], lines
    assert lines[0].endswith("-grace-example.com-activate-your-account.eml")
