"""How ordering pages write money, times and statuses: {{ total|money }}, {{ order.eta|when }}, {{ at|iso }},
{{ order|status_words }}."""
from datetime import datetime
from datetime import timezone as dt_timezone

from django import template
from django.utils import dateformat, timezone

from orders import progress
from orders.money import money as money_text

register = template.Library()


@register.filter
def money(amount) -> str:
    """"€24.50" (ORDERS_CURRENCY)."""
    return money_text(amount)


@register.filter(expects_localtime=False)
def when(moment: datetime | None, fmt: str = "M j, H:i") -> str:
    """"Nov 1, 01:30 EST": in the reader's zone, always named. Django's own "T" and "O" write nothing
    for a time a DST change repeats, the very time a name is needed for; Python's zone names it."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{dateformat.format(local, fmt)} {local.tzname()}"


@register.filter(expects_localtime=False)
def iso(moment: datetime | None) -> str:
    """For a <time datetime>: the instant in UTC ("2026-11-01T06:30:00Z"), never ambiguous."""
    return moment.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


@register.filter
def status_words(order) -> str:
    """"Being prepared", "Driver on the way": an order's status as its customer reads it in a list."""
    return progress.in_short(order)
