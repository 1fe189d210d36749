"""The function every CRONJOBS entry calls, under `manage.py crontab run HASH`.

django-crontab catches every exception and exits 0, so a failure here would be silent: cron would
mail nothing and the exit status would say success. A failed job has already written its line to
stderr and its JobRun; an operator's error (CommandError: "no backup in …"), a refused option or
anything else gets its one line here; and the process exits with the status manage.py would give.
"""
import os
import sys

from django.core.management import call_command
from django.core.management.base import CommandError

from ask.jobs.runner import JobFailed, one_line


def run(command: str, *args: str) -> None:
    # Quiet on success (cron mails any output); failures always print one line on stderr.
    if not any(arg.startswith(("-v", "--verbosity")) for arg in args):
        args = (*args, "--verbosity", "0")
    try:
        call_command(command, *args)
    except JobFailed as failure:  # its line is on stderr already
        _exit(failure.exit_code)
    except CommandError as error:  # a bad file, "no backup": what manage.py would print, and its status
        sys.stderr.write(f"{command}: {error}\n")
        # Under call_command an option argparse refuses is a CommandError "Error: …"; manage.py exits 2.
        _exit(2 if str(error).startswith("Error: ") else error.returncode)
    except SystemExit as stop:  # argparse refused an option (it has printed why)
        _exit(stop.code if isinstance(stop.code, int) else 2)
    except BaseException as exc:  # anything else: one line, never swallowed
        sys.stderr.write(f"{command} failed: {one_line(exc)}\n")
        _exit(1)


def _exit(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # SystemExit would be swallowed by django-crontab's bare except
