#!/bin/sh
# Nightly database backup, as crontab.txt runs it: backup_db through scripts/cron-job (project folder,
# virtualenv, environment file). Its time limit is backup_db's own (3 h, JobCommand.timeout), kept by
# the run itself under cron; ASK_JOB_TIMEOUT sets another. Extra arguments go to backup_db, e.g.
# scripts/backup.sh --keep-daily 14
exec "$(dirname "$0")/cron-job" backup_db "$@"
