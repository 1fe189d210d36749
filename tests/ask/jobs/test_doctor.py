"""`manage.py jobs --doctor` on a machine set up right, and with a stale crontab line (the real cron
daemon, crontab through the test's stand-in executable, the environment file read by scripts/cron-job)."""
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ask.jobs import doctor
from tests.ask.jobs.test_cron_daemon import ensure_cron_daemon
from tests.ask.jobs.test_schedule import fake_crontab  # noqa: F401 (a fixture)
from tests.support import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site_env_file(tmp_path, monkeypatch, settings):
    """The environment file the web processes would use: this process's own settings."""
    env_file = tmp_path / "site.env"
    env_file.write_text(f"DATABASE_URL={os.environ['DATABASE_URL']}\nASK_VAR_DIR={settings.VAR_DIR}\n"
                        f"MEMCACHED_SERVERS={os.environ.get('MEMCACHED_SERVERS', '')}\n")
    env_file.chmod(0o600)
    monkeypatch.setenv("ASK_ENV_FILE", str(env_file))
    monkeypatch.setattr(doctor, "CRON_D_DIR", tmp_path / "cron.d")  # this machine's /etc/cron.d is not ours
    return env_file


def doctor_says() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("jobs", "--doctor", stdout=out, stderr=out)
        return 0, out.getvalue()
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)


def test_doctor_on_a_machine_set_up_right_says_ok_to_every_check(fake_crontab, site_env_file):  # noqa: F811
    ensure_cron_daemon()
    call_command("crontab", "add", stdout=StringIO())
    code, said = doctor_says()
    assert code == 0, said
    for check in ("crontab", "cron daemon", "environment file", "virtualenv", "time zone", "lock connection"):
        assert f"ok       {check}:" in said, (check, said)
    assert "PROBLEM" not in said


def test_doctor_names_a_stale_crontab_line_a_missing_one_and_how_to_fix_them(fake_crontab, site_env_file,  # noqa: F811
                                                                              tmp_path):
    ensure_cron_daemon()
    call_command("crontab", "add", stdout=StringIO())
    cron_d = tmp_path / "cron.d"
    cron_d.mkdir()
    # An /etc/cron.d file from before calc_sidebar moved to 3-59/10, without the stats line.
    (cron_d / "ask").write_text(f"ASK_HOME={ROOT}\n3 * * * *  www-data $ASK_HOME/scripts/cron-job calc_sidebar\n")
    code, said = doctor_says()
    assert code == 1
    assert "PROBLEM  crontab: stale line in " in said and "cron.d/ask line 2" in said
    assert "CRONJOBS runs it as `3-59/10 * * * * calc_sidebar`" in said
    assert "fix: reinstall the schedule" in said
    assert "ok       cron daemon" in said


def test_doctor_finds_a_time_zone_that_differs_from_crons_and_settings_cron_would_not_see(
        fake_crontab, site_env_file, settings):  # noqa: F811
    call_command("crontab", "add", stdout=StringIO())
    settings.TIME_ZONE = "Europe/Berlin"
    code, said = doctor_says()
    assert code == 1
    assert "PROBLEM  time zone: cron runs in" in said and "TIME_ZONE is Europe/Berlin" in said
    assert "PROBLEM  environment file: cron jobs would run with other TIME_ZONE" in said
