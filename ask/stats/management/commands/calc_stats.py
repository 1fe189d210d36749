from datetime import date, timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from ask.jobs.command import JobCommand
from ask.stats.compute import stats_calculate


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--since {raw!r} is not a date; use YYYY-MM-DD.") from None


class Command(JobCommand):
    examples = (
        "   # yesterday and today",
        "--since 2026-11-01   # recompute from then",
    )
    help = (
        "Compute the daily statistics of the site and the orders (site time zone) and upsert them: by "
        "default yesterday and today (today's row refreshes each run); --since DATE recomputes from then."
    )
    catch_up = "once"  # else today's figures stay an hour older
    expected_seconds = 600
    changes_data = True

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("--since", help="First day to compute, YYYY-MM-DD (default: yesterday).")

    def check_options(self, options: dict) -> None:
        if options["since"] and _date(options["since"]) > timezone.localdate():
            raise CommandError(f"--since {options['since']} is in the future (today is {timezone.localdate()}).")

    def run(self, job) -> str:
        today = timezone.localdate()
        since = _date(job.options["since"]) if job.options["since"] else today - timedelta(days=1)
        counts = stats_calculate(since=since, until=today, dry_run=job.dry_run)
        for name, count in counts.items():
            job.count(name, count)
        return f"{counts['days']} day(s) from {since} to {today}: {counts['order rows']} order rows"
