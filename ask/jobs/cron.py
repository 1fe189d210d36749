"""The function every CRONJOBS entry calls, under `manage.py crontab run HASH`.

django-crontab catches every exception and exits 0. A failed job has already written its line to
stderr and its JobRun; here the process also exits non-zero, so whatever watches exit codes sees it.
"""
import os
import sys

from django.core.management import call_command

from ask.jobs.runner import JobFailed


def run(command: str, *args: str) -> None:
    # Quiet on success (cron mails any output); failures always print one line on stderr.
    if not any(arg.startswith(("-v", "--verbosity")) for arg in args):
        args = (*args, "--verbosity", "0")
    try:
        call_command(command, *args)
    except JobFailed as failure:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(failure.exit_code)  # SystemExit would be swallowed by django-crontab's bare except
