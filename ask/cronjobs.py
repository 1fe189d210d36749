"""The one schedule of background jobs (settings.CRONJOBS), in the server's time zone (UTC on our hosts).

crontab.txt mirrors it line for line and tests/ask/jobs/test_schedule.py fails when they disagree.
Each entry runs `manage.py COMMAND ARGS` through ask.jobs.cron.run. Why each time is chosen: README.md
("Jobs") and the comments below.
"""
CRONJOBS = [
    # Order processing: every minute, looping 55 s with a pass every 2 s when idle. Not exclusive:
    # every host runs it, and SELECT ... FOR UPDATE SKIP LOCKED shares the orders among them.
    ("* * * * *", "ask.jobs.cron.run", ["process_orders", "--loop", "--max-seconds", "55", "--interval", "2"]),
    # Ticket statuses of polled restaurants' kitchens: every minute (one host at a time).
    ("* * * * *", "ask.jobs.cron.run", ["sync_restaurants"]),
    # Scheduled runs no host made (every host down at 04:07): recorded as missed, and made up once for
    # jobs with catch_up = "once". Every minute, so a missed slot is made up soon after its window.
    ("* * * * *", "ask.jobs.cron.run", ["catch_up_jobs"]),
    # Outgoing mail: every minute, looping for 55 s so a queued mail leaves within seconds. Exclusive:
    # one sender across all hosts, so no mail goes out twice because two runs overlapped.
    ("* * * * *", "ask.jobs.cron.run", ["send_queued_mail", "--loop", "--max-seconds", "55"]),
    # Sidebar (popular tags, best members): every 10 minutes, at minute 3, 13, ... off the full hour.
    ("3-59/10 * * * *", "ask.jobs.cron.run", ["calc_sidebar"]),
    # Daily statistics (yesterday and today): hourly at minute 7, so today's figures are an hour old.
    ("7 * * * *", "ask.jobs.cron.run", ["calc_stats"]),
    # Expired sessions: daily at 03:17, a quiet hour, off the hour when other hosts' jobs start.
    ("17 3 * * *", "ask.jobs.cron.run", ["clearsessions"]),
    # Job history older than JOBS_RUN_RETENTION_DAYS: daily at 03:47, after clearsessions.
    ("47 3 * * *", "ask.jobs.cron.run", ["prune_job_runs"]),
    # Database backup: nightly at 02:30, the quietest hour; crontab.txt runs it through
    # scripts/backup.sh (a 3 h timeout). Never beside restore_db: the two share one lock.
    ("30 2 * * *", "ask.jobs.cron.run", ["backup_db"]),
    # Continuous archiving (BACKUP_WAL_ARCHIVE; without it a run does nothing): the write-ahead log
    # streamed for 55 s each minute, one host at a time; the replication slot keeps what a gap wrote.
    ("* * * * *", "ask.jobs.cron.run", ["archive_wal", "--loop", "--max-seconds", "55"]),
    # Base backup (the cluster copied, for restores to a moment): daily at 01:37, before the dump.
    ("37 1 * * *", "ask.jobs.cron.run", ["base_backup"]),
    # The newest backup restored into a scratch database and counted: Sundays at 04:47.
    ("47 4 * * 0", "ask.jobs.cron.run", ["verify_backup"]),
    # Abandoned sign-ups and expired activation keys: daily at 04:07, after the 03:xx housekeeping.
    ("7 4 * * *", "ask.jobs.cron.run", ["cleanup_activations"]),
    # Digests (daily ones every day, weekly ones every seventh day): 06:13, before members read mail.
    ("13 6 * * *", "ask.jobs.cron.run", ["send_digests"]),
    # Posts hidden as spam more than QA_SPAM_GRACE_DAYS ago, deleted with a record of each: daily at 04:37.
    ("37 4 * * *", "ask.jobs.cron.run", ["purge_spam"]),
    # Sent and given-up mail older than MAIL_RETENTION_DAYS: daily at 04:27.
    ("27 4 * * *", "ask.jobs.cron.run", ["prune_mail"]),
    # Counters rebuilt from the votes (a consistency check that also repairs): Sundays at 05:17, the
    # quietest hour of the week; it locks one batch of questions at a time, briefly.
    ("17 5 * * 0", "ask.jobs.cron.run", ["recalc_ratings"]),
]
