#!/bin/sh
# Nightly database backup, as crontab.txt runs it: backup_db through scripts/cron-job (project folder,
# virtualenv, environment file, timeout), with a longer timeout than other jobs. Extra arguments go to
# backup_db, e.g. scripts/backup.sh --keep-daily 14
ASK_JOB_TIMEOUT=${ASK_JOB_TIMEOUT:-3h}
export ASK_JOB_TIMEOUT
exec "$(dirname "$0")/cron-job" backup_db "$@"
