"""Reads of the statistics: the last N days, with empty days filled in."""
from datetime import timedelta

from django.utils import timezone

from ask.stats.models import OrdersDay, SiteDay

SITE_FIELDS = ["new_users", "activations", "questions", "answers", "votes", "active_users"]
ORDER_FIELDS = ["placed", "delivered", "cancelled", "revenue", "avg_minutes", "p95_minutes", "late_share"]
COUNTED = ("placed", "delivered", "cancelled", "revenue")  # figures that are 0, not unknown, on a day without rows
PERIODS = (30, 90, 365)


def last_days(days: int) -> list[dict]:
    """One dict per day, oldest first: the site's and the orders' figures (0 / None for missing rows),
    and "computed": whether calc_stats has computed the day at all."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    site = {row.day: row for row in SiteDay.objects.filter(day__gte=first)}
    orders = {row.day: row for row in OrdersDay.objects.filter(day__gte=first, restaurant=None)}
    result = []
    for n in range(days):
        day = first + timedelta(days=n)
        row = {"day": day, "computed": day in site}
        for field in SITE_FIELDS:
            row[field] = getattr(site.get(day), field, 0) if day in site else 0
        for field in ORDER_FIELDS:
            row[field] = getattr(orders[day], field) if day in orders else (0 if field in COUNTED else None)
        result.append(row)
    return result
