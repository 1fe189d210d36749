"""A stand-in for cron on machines without a crontab (a newcomer's, via scripts/run).

At the start of every minute it starts the CRONJOBS entries due then, each as its own
`manage.py` process, exactly as cron would; the jobs' own locks keep them from overlapping.
Production uses cron (crontab.txt or `manage.py crontab add`), never this.
"""
import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

from croniter import croniter
from django.conf import settings
from django.utils import timezone

from ask.jobs.schedule import ScheduledJob, scheduled_jobs


def due_jobs(minute: datetime) -> list[ScheduledJob]:
    return [job for job in scheduled_jobs() if croniter.match(job.schedule, minute)]


def schedule_run(*, stop: threading.Event, say) -> None:
    """Start due jobs each minute until stop is set; then stop the running ones (SIGTERM) and wait."""
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    running: list[subprocess.Popen] = []
    try:
        while not stop.is_set():
            now = timezone.localtime()  # TIME_ZONE, with its DST rules (ask.jobs.slots)
            for job in due_jobs(now.replace(second=0, microsecond=0)):
                say(f"{now:%H:%M} starting {' '.join(job.argv)}")
                # A session of its own: Ctrl-C in the terminal reaches this process, not the jobs.
                slot = {"ASK_JOB_SLOT": now.replace(second=0, microsecond=0).isoformat()}  # ask.jobs.slots
                running.append(subprocess.Popen([sys.executable, manage, *job.argv, "--verbosity", "0"],
                                                env={**os.environ, **slot}, start_new_session=True))
            running = [proc for proc in running if proc.poll() is None]
            stop.wait(60 - datetime.now().second + 0.5)  # just after the start of the next minute
    finally:
        # Loop jobs stop cleanly after their current pass on SIGTERM; one-shot jobs are let finish.
        for proc in running:
            if "--loop" in proc.args:
                proc.terminate()
        for proc in running:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait(30)
