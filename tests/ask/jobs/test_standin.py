"""run_schedule, the stand-in for cron that scripts/run starts: which jobs are due when."""
from datetime import datetime

from ask.jobs.standin import due_jobs


def test_due_jobs_follow_the_cron_expressions(settings):
    settings.CRONJOBS = [
        ("* * * * *", "ask.jobs.cron.run", ["send_queued_mail", "--loop"]),
        ("3-59/10 * * * *", "ask.jobs.cron.run", ["calc_sidebar"]),
        ("17 3 * * *", "ask.jobs.cron.run", ["clearsessions"]),
    ]
    names = lambda minute: [job.command for job in due_jobs(minute)]  # noqa: E731
    assert names(datetime(2026, 11, 23, 10, 13)) == ["send_queued_mail", "calc_sidebar"]
    assert names(datetime(2026, 11, 23, 10, 14)) == ["send_queued_mail"]
    assert names(datetime(2026, 11, 23, 3, 17)) == ["send_queued_mail", "clearsessions"]
