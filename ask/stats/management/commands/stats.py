from datetime import timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from ask.jobs.command import AdminCommand, positive_int
from ask.stats.selectors import last_days


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 1 else f"{value:.1f}"
    return str(value)


class Command(AdminCommand):
    examples = (
        "--days 7",
    )
    help = ("Print the daily statistics of the last days (what calc_stats computed) as a table; days "
            "calc_stats has not computed show '-'. Read-only.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=positive_int, default=14, help="How many days back (default 14).")

    def handle(self, *args, **options) -> None:
        days = last_days(options["days"])
        first = timezone.localdate() - timedelta(days=options["days"] - 1)
        if not any(day["computed"] for day in days):
            raise CommandError(f"No statistics for {first} to {timezone.localdate()}: calc_stats has not computed "
                               f"them (cron runs it hourly). Compute them now: manage.py calc_stats --since {first}")
        columns = ["day", "new_users", "activations", "questions", "answers", "votes", "active_users",
                   "placed", "delivered", "cancelled", "revenue", "avg_minutes", "p95_minutes", "late_share"]
        rows = [columns] + [[_cell(day[c] if day["computed"] or c == "day" else None) for c in columns]
                            for day in days]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        for row in rows:
            self.stdout.write("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
        if not all(day["computed"] for day in days):
            self.stdout.write(f"-: not computed by calc_stats (manage.py calc_stats --since {first} computes them)")
