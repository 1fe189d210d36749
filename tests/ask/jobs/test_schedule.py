"""The schedule: CRONJOBS and crontab.txt agree, and both install and run as cron would."""
import hashlib
import json
import re
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command, get_commands, load_command_class

import ask.settings
from ask.jobs.command import JobCommand
from ask.jobs.models import JobRun
from tests.support import ROOT, process_env

CRONTAB_LINE = re.compile(r"^((?:\S+\s+){5})\$ASK_HOME/scripts/(?:cron-job |backup\.sh)(.*)$")


def crontab_txt_jobs() -> list[tuple[str, list[str]]]:
    jobs = []
    for line in (ROOT / "crontab.txt").read_text().splitlines():
        match = CRONTAB_LINE.match(line)
        if match:
            argv = match.group(2).split() if "cron-job" in line else ["backup_db", *match.group(2).split()]
            jobs.append((" ".join(match.group(1).split()), argv))
    return jobs


def test_crontab_txt_and_cronjobs_are_the_same_schedule():
    from_settings = [(" ".join(entry[0].split()), list(entry[2])) for entry in ask.settings.CRONJOBS]
    assert sorted(crontab_txt_jobs()) == sorted(from_settings)  # the order of lines does not matter to cron


def test_crontab_txt_has_the_classic_header_and_a_comment_above_every_job():
    text = (ROOT / "crontab.txt").read_text()
    for variable in ("SHELL=/bin/sh", "PATH=", "MAILTO=", "ASK_HOME="):
        assert re.search(rf"^{re.escape(variable)}", text, re.M), variable
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if CRONTAB_LINE.match(line):
            assert lines[index - 1].startswith("#"), f"crontab.txt line {index + 1} has no comment above it"
    assert len(crontab_txt_jobs()) == len(ask.settings.CRONJOBS) > 0


def test_every_scheduled_command_runs_in_the_job_framework():
    commands = get_commands()
    for entry in ask.settings.CRONJOBS:
        name = entry[2][0]
        assert name in commands, f"CRONJOBS names a command that does not exist: {name}"
        assert isinstance(load_command_class(commands[name], name), JobCommand), name


def test_every_job_command_help_says_what_when_and_its_options(capsys):
    commands = get_commands()
    for name, app in commands.items():
        command = load_command_class(app, name)
        if not isinstance(command, JobCommand):
            continue
        help_text = command.create_parser("manage.py", name).format_help()
        assert command.help and command.help.split()[0] in help_text, name
        assert "Cron (settings.CRONJOBS, crontab.txt" in help_text and "Exit status" in help_text, name
        scheduled = [e for e in ask.settings.CRONJOBS if e[2][0] == name]
        for entry in scheduled:
            assert entry[0] in help_text, name


def test_cron_d_inserts_the_user_column_and_the_project_path():
    out = subprocess.run([str(ROOT / "scripts/cron-d"), "www-data"], capture_output=True, text=True, check=True).stdout
    assert f"ASK_HOME={ROOT}" in out
    assert re.search(r"^17 3 \* \* \*  www-data \$ASK_HOME/scripts/cron-job clearsessions$", out, re.M)


@pytest.fixture
def fake_crontab(tmp_path, monkeypatch, settings):
    """django-crontab's CRONTAB_EXECUTABLE pointed at a stand-in that keeps the table in a file."""
    table = tmp_path / "crontab"
    table.write_text("0 5 * * * /usr/bin/backup-photos # the admin's own\n"
                     "0 6 * * * /srv/staging/manage.py crontab run abc # django-cronjobs for staging\n")
    executable = tmp_path / "crontab-standin"
    executable.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {table}; else cp "$1" {table}; fi\n')
    executable.chmod(0o755)
    settings.CRONTAB_EXECUTABLE = str(executable)
    return table


def test_crontab_add_show_remove_touch_only_the_sites_own_lines(fake_crontab, capsys):
    call_command("crontab", "add")
    lines = fake_crontab.read_text().splitlines()
    assert lines[:2] == ["0 5 * * * /usr/bin/backup-photos # the admin's own",
                         "0 6 * * * /srv/staging/manage.py crontab run abc # django-cronjobs for staging"]
    ours = lines[2:]
    assert len(ours) == len(ask.settings.CRONJOBS)
    for line, entry in zip(ours, ask.settings.CRONJOBS):
        job_hash = hashlib.md5(json.JSONEncoder(sort_keys=True).encode(entry).encode()).hexdigest()
        assert line == (f"{entry[0]} ASK_JOB_SCHEDULED=1 {ROOT}/scripts/cron-job --python {ROOT}/manage.py "
                        f"crontab run {job_hash} # django-cronjobs for ask")
    call_command("crontab", "add")
    assert fake_crontab.read_text().splitlines() == lines, "adding twice must not duplicate lines"
    capsys.readouterr()
    call_command("crontab", "show")
    shown = capsys.readouterr().out
    assert "clearsessions" in shown and "prune_job_runs" in shown
    call_command("crontab", "remove")
    assert fake_crontab.read_text().splitlines() == lines[:2]


@pytest.mark.django_db(transaction=True)
def test_an_installed_crontab_line_runs_its_job_through_the_wrapper(fake_crontab, var_dir):
    call_command("crontab", "add", stdout=StringIO())
    line = next(l for l in fake_crontab.read_text().splitlines() if l.startswith("47 3 * * *"))
    command = line.split(" ", 5)[5].rsplit(" # ", 1)[0]
    env_file = var_dir / "env"
    env = process_env(var_dir)
    env_file.write_text(f"DATABASE_URL={env['DATABASE_URL']}\nASK_VAR_DIR={var_dir}\n")
    env_file.chmod(0o600)  # cron-job refuses an environment file others can read
    result = subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin", "ASK_ENV_FILE": str(env_file)},
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert JobRun.objects.get().job == "prune_job_runs"
