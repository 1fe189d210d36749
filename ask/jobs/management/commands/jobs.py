"""`manage.py jobs`: how the site's scheduled jobs are doing, and the history of any job."""
import json
from datetime import timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from ask.jobs import listing
from ask.jobs.command import AdminCommand, positive_int
from ask.jobs.doctor import diagnose
from ask.jobs.models import JobRun
from ask.jobs.selectors import by_hand_runs, job_history, job_states, with_liveness

BY_HAND_DAYS = 7  # runs by hand of unscheduled jobs shown under the schedule


class Command(AdminCommand):
    examples = (
        "--check --json   # for a monitor: every job as JSON, exit 1 when one needs attention",
        "backup_db --limit 5   # the last five backups",
    )
    help = (
        "Show each scheduled job (settings.CRONJOBS) with its schedule, last run, duration, status, last "
        f"success and next run, flagging STALE and OVERDUE jobs and MISSED slots, and below them the runs "
        f"by hand of the last {BY_HAND_DAYS} days (import_data, restore_db, …); or one job's recent runs; "
        "or one run in full. Times are in TIME_ZONE. Read-only."
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
        parser.add_argument("--json", action="store_true",
                            help="The same as JSON on stdout (times ISO 8601 with their offset); --check still "
                                 "sets the exit status.")

    def handle(self, *args, **options) -> None:
        self.as_json = options["json"]
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

    def _print(self, rows: list[list[str]] | None = None, data=None) -> None:
        if self.as_json:
            self.stdout.write(json.dumps(data, indent=2))
        else:
            for line in listing.table(rows):
                self.stdout.write(line)

    def _show_overview(self, *, check: bool) -> None:
        now = timezone.now()
        states, by_hand = job_states(now), by_hand_runs(now - timedelta(days=BY_HAND_DAYS))
        notes = listing.notes()
        if self.as_json:
            self._print(data={"jobs": [listing.state_json(state, now) for state in states],
                              "by_hand": [listing.run_json(run, shown) for run, shown in by_hand],
                              "notes": {name: {"ok": ok, "detail": detail, **data}
                                        for name, ok, detail, data in notes}})
        else:
            self._print(listing.overview_rows(states, now))
            if by_hand:
                self.stdout.write("")
                self._print(listing.by_hand_rows(by_hand))
            self.stdout.write("")
            for name, ok, detail, _ in notes:
                self.stdout.write(f"{name}: {detail}" + ("" if ok else "  <- needs attention"))
        if check:
            self._check(states, [f"{name}: {detail}" for name, ok, detail, _ in notes if not ok])

    def _check(self, states, notes: tuple = ()) -> None:
        problems = [state for state in states if state.problem]
        for state in problems:
            self.stderr.write(f"{state.name}: {state.problem}")
        for note in notes:
            self.stderr.write(note)
        if problems or notes:
            raise CommandError(f"{len(problems) + len(notes)} job(s) or note(s) need attention.", returncode=1)

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
        self._print(listing.history_rows(runs), [listing.run_json(run, shown) for run, shown in runs])

    def _show_run(self, run_id: int) -> None:
        run = JobRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"There is no job run {run_id}.")
        shown = with_liveness([run])[run.pk]
        if self.as_json:
            return self._print(data=listing.run_json(run, shown, full=True))
        when = listing.when_full
        for label, value in [
            ("run", run.pk), ("job", run.job), ("status", shown), ("host", run.host), ("pid", run.pid),
            ("started", when(run.started_at)), ("finished", when(run.finished_at)), ("duration", listing.took(run)),
            ("slot", when(run.slot) + (" (catch-up)" if run.catch_up else "") if run.slot else "-"),
            ("dry run", "yes" if run.dry_run else "no"), ("arguments", json.dumps(run.arguments, sort_keys=True)),
            ("counters", json.dumps(run.counters, sort_keys=True)), ("summary", run.summary or "-"),
        ]:
            self.stdout.write(f"{label:>10}: {value}")
        if run.error:
            self.stdout.write("     error:")
            self.stdout.write(run.error)
