"""`manage.py jobs`: how the site's scheduled jobs are doing, and the history of any job."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ask.jobs.command import WithExamples, positive_int
from ask.jobs.doctor import diagnose
from ask.jobs.models import JobRun
from ask.jobs.selectors import job_history, job_states, with_liveness


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _duration(run: JobRun | None) -> str:
    seconds = run.duration_seconds if run else None
    return "-" if seconds is None else f"{seconds:.1f}s"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


class Command(WithExamples, BaseCommand):
    examples = (
        "--check   # for a monitor: exit 1 when a job needs attention",
        "backup_db --limit 5   # the last five backups",
    )
    help = (
        "Show each scheduled job (settings.CRONJOBS) with its schedule, last run, duration, status and "
        "last success, flagging STALE and OVERDUE jobs and MISSED slots; or one job's recent runs; or one "
        "run in full. Read-only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("job", nargs="?", help="Show the recent runs of this job instead.")
        parser.add_argument("--run", type=int, metavar="ID", help="Show one run in full, with its error.")
        parser.add_argument("--limit", type=positive_int, default=20, help="Runs shown for one job (default 20).")
        parser.add_argument(
            "--doctor", action="store_true",
            help="Check what breaks cron jobs in practice (the installed crontab against CRONJOBS, the cron "
                 "daemon, the environment file, the virtualenv, the time zone, the lock connection) and say "
                 "how to fix each; exit 1 when something is wrong. Run it as the web processes run.",
        )
        parser.add_argument(
            "--check", action="store_true",
            help="Exit 1 when a scheduled job failed last, died, runs overdue, missed a slot or is stale "
                 "(for monitoring).",
        )

    def handle(self, *args, **options) -> None:
        if options["doctor"]:
            return self._doctor()
        if options["run"] is not None:
            return self._show_run(options["run"])
        if options["job"]:
            self._show_history(options["job"], options["limit"])
            if options["check"]:  # `jobs backup_db --check`: that job alone, for a monitor of its own
                self._check([state for state in job_states() if state.name == options["job"]])
            return
        self._show_overview(check=options["check"])

    def _show_overview(self, *, check: bool) -> None:
        states = job_states()
        rows = [["JOB", "SCHEDULE", "LAST RUN", "DURATION", "STATUS", "LAST SUCCESS", ""]]
        for state in states:
            status = state.last_status.upper() if state.last_status != "ok" else "ok"
            rows.append([
                " ".join(state.scheduled.argv), state.scheduled.schedule,
                _when(state.last_run and state.last_run.started_at),
                _duration(state.last_run), status, _when(state.last_success and state.last_success.started_at),
                " ".join(state.notes),
            ])
        for line in _table(rows):
            self.stdout.write(line)
        if check:
            self._check(states)

    def _check(self, states) -> None:
        problems = [state for state in states if state.problem]
        if problems:
            for state in problems:
                self.stderr.write(f"{state.name}: {state.problem}")
            raise CommandError(f"{len(problems)} job(s) need attention.", returncode=1)

    def _doctor(self) -> None:
        findings = diagnose()
        for finding in findings:
            self.stdout.write(f"{'ok' if finding.ok else 'PROBLEM':<8} {finding.check}: {finding.message}")
            if not finding.ok and finding.fix:
                self.stdout.write(f"{'':<8} fix: {finding.fix}")
        problems = sum(not finding.ok for finding in findings)
        if problems:
            raise CommandError(f"{problems} problem(s) found.", returncode=1)

    def _show_history(self, job: str, limit: int) -> None:
        runs = job_history(job, limit)
        if not runs:
            raise CommandError(f"No runs recorded for a job named {job!r}. `manage.py jobs` lists the scheduled ones.")
        rows = [["RUN", "STARTED", "DURATION", "STATUS", "HOST", "PID", "SUMMARY / ERROR"]]
        for run, shown in runs:
            note = run.summary or (run.error.splitlines()[0] if run.error else "")
            if run.catch_up:
                shown = f"{shown} (catch-up)"
            rows.append([str(run.pk), _when(run.started_at), _duration(run), shown, run.host, str(run.pid), note[:200]])
        for line in _table(rows):
            self.stdout.write(line)

    def _show_run(self, run_id: int) -> None:
        run = JobRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"There is no job run {run_id}.")
        shown = with_liveness([run])[run.pk]
        for label, value in [
            ("run", run.pk), ("job", run.job), ("status", shown), ("host", run.host), ("pid", run.pid),
            ("started", _when(run.started_at)), ("finished", _when(run.finished_at)), ("duration", _duration(run)),
            ("slot", _when(run.slot) + (" (catch-up)" if run.catch_up else "") if run.slot else "-"),
            ("dry run", "yes" if run.dry_run else "no"), ("arguments", json.dumps(run.arguments, sort_keys=True)),
            ("counters", json.dumps(run.counters, sort_keys=True)), ("summary", run.summary or "-"),
        ]:
            self.stdout.write(f"{label:>10}: {value}")
        if run.error:
            self.stdout.write("     error:")
            self.stdout.write(run.error)
