"""End to end: the real cron daemon runs a line of crontab.txt, and the run appears in JobRun."""
import re
import shutil
import subprocess
import time

import pytest

from ask.jobs.models import JobRun
from tests.support import ROOT, process_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def ensure_cron_daemon() -> None:
    if subprocess.run(["pgrep", "-x", "cron"], capture_output=True).returncode != 0:
        subprocess.run([shutil.which("cron") or "/usr/sbin/cron"], check=True)


@pytest.fixture
def user_crontab():
    """Install a crontab for this user for the test, and put the user's own back afterwards."""
    before = subprocess.run(["crontab", "-l"], capture_output=True, text=True)

    def install(text: str) -> None:
        subprocess.run(["crontab", "-"], input=text, text=True, check=True)

    yield install
    if before.returncode == 0:
        install(before.stdout)
    else:
        subprocess.run(["crontab", "-r"], capture_output=True)


def test_cron_runs_a_crontab_txt_line_and_the_run_is_recorded(user_crontab, var_dir):
    ensure_cron_daemon()
    env = process_env(var_dir)
    env_file = var_dir / "env"
    env_file.write_text(f"DATABASE_URL={env['DATABASE_URL']}\nASK_VAR_DIR={var_dir}\n")
    env_file.chmod(0o600)  # cron-job refuses an environment file others can read
    text = (ROOT / "crontab.txt").read_text()
    text = re.sub(r"^ASK_HOME=.*$", f"ASK_HOME={ROOT}\nASK_ENV_FILE={env_file}", text, flags=re.M)
    text = re.sub(r"^MAILTO=.*$", "MAILTO=\"\"", text, flags=re.M)
    # Keep the header and one job, moved to every minute so the test need not wait until 03:47.
    header = [line for line in text.splitlines() if not re.match(r"^[0-9*]", line)]
    job = next(line for line in text.splitlines() if line.endswith("cron-job prune_job_runs"))
    user_crontab("\n".join(header + ["* * * * * " + job.split(None, 5)[5]]) + "\n")
    started = time.monotonic()
    run = wait_for(lambda: JobRun.objects.filter(job="prune_job_runs").first(), 90, interval=1,
                   what="cron to run prune_job_runs")
    wait_for(lambda: JobRun.objects.filter(pk=run.pk, status="ok").exists(), 30, interval=0.5, what="the run to finish")
    assert time.monotonic() - started < 90
