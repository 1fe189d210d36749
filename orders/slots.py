"""The delivery times a customer can choose at checkout, labelled in the customer's own time zone.

Every quarter hour from the earliest time a plan can keep (and at least ORDERS_MIN_NOTICE_MINUTES
ahead) over ORDERS_SLOT_DAYS days, while every restaurant of the cart is open, at the time and when
its kitchen is to start (services.closed_for). A slot's value is its
UTC instant: a local time a DST change repeats ("01:30 EDT", "01:30 EST") is two slots that say
which is which, and a local time the change skips (02:30 on a spring-forward day) is never offered.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone

from django.conf import settings

from orders.models import Restaurant
from orders.planning import earliest_eta
from orders.services import closed_for, order_estimates

STEP = timedelta(minutes=15)
VALUE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})Z", re.ASCII)


@dataclass(frozen=True)
class Slot:
    at: datetime  # UTC
    label: str  # "19:15 EST"
    day: str  # "Today, Sun 6 Dec"

    @property
    def value(self) -> str:
        return self.at.strftime("%Y-%m-%dT%H:%MZ")


def earliest_delivery(now: datetime, restaurants: list[Restaurant], estimates: tuple) -> datetime:
    notice = now + timedelta(minutes=settings.ORDERS_MIN_NOTICE_MINUTES)
    if not restaurants:
        return notice
    return max(notice, earliest_eta(now, *estimates))


def delivery_slots(*, now: datetime, restaurants: list[Restaurant], zone: tzinfo) -> list[Slot]:
    estimates = order_estimates(restaurants)  # each restaurant's cooking and the courier's, read once
    start = earliest_delivery(now, restaurants, estimates).astimezone(dt_timezone.utc)
    at = start.replace(second=0, microsecond=0, minute=start.minute - start.minute % 15)
    if at < start:
        at += STEP
    until = now + timedelta(days=min(settings.ORDERS_SLOT_DAYS, settings.ORDERS_MAX_DAYS_AHEAD))
    today = now.astimezone(zone).date()
    slots = []
    while at <= until:
        if not closed_for(restaurants, at, *estimates):
            local = at.astimezone(zone)
            slots.append(Slot(at=at, label=f"{local:%H:%M} {local.tzname()}", day=_day(local, today)))
        at += STEP
    return slots


def _day(local: datetime, today) -> str:
    name = f"{local:%a} {local.day} {local:%b}"
    offset = (local.date() - today).days
    return {0: f"Today, {name}", 1: f"Tomorrow, {name}"}.get(offset, name)


def slot_at(value: str) -> datetime | None:
    """The instant of a slot's value ("2026-12-06T19:15Z"), or None for anything else."""
    match = VALUE.fullmatch(value or "")
    if not match:
        return None
    try:
        return datetime(*map(int, match.groups()), tzinfo=dt_timezone.utc)
    except ValueError:  # month 13, 24:00, Feb 30
        return None


def grouped(slots: list[Slot]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Choices for a <select> with an <optgroup> a day."""
    days: dict[str, list[tuple[str, str]]] = {}
    for slot in slots:
        days.setdefault(slot.day, []).append((slot.value, slot.label))
    return list(days.items())
