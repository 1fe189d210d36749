"""Statistics for the days loaded data covers, computed right after loading it (demo_data, fill_db,
fill_orders): calc_stats alone computes yesterday and today, so the staff's charts stayed flat at zero
after a first start although the demo spans a year of questions and a month of orders."""
from datetime import date, datetime, timedelta

from django.core.management import call_command
from django.utils import timezone

LONGEST = 365  # the statistics page's longest period


def statistics_backfill(first: datetime | date | None) -> None:
    """calc_stats --since the first day (at most a year back); nothing when there is no data."""
    if first is None:
        return
    day = timezone.localdate(first) if isinstance(first, datetime) else first
    since = max(day, timezone.localdate() - timedelta(days=LONGEST))
    call_command("calc_stats", "--since", since.isoformat(), verbosity=0)
