from django.core.management.base import BaseCommand

from ask.jobs.command import WithExamples
from ask.stats.selectors import last_days


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 1 else f"{value:.1f}"
    return str(value)


class Command(WithExamples, BaseCommand):
    examples = (
        "--days 7",
    )
    help = "Print the daily statistics of the last days (what calc_stats computed) as a table. Read-only."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=14, help="How many days back (default 14).")

    def handle(self, *args, **options) -> None:
        columns = ["day", "new_users", "activations", "questions", "answers", "votes", "active_users",
                   "placed", "delivered", "cancelled", "revenue", "avg_minutes", "p95_minutes", "late_share"]
        rows = [columns] + [[_cell(day[c]) for c in columns] for day in last_days(max(1, options["days"]))]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        for row in rows:
            self.stdout.write("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
