"""The menu as the page shows it: every restaurant's dishes from the cache (dropped on every change,
orders.services.menu_invalidate), and whether each restaurant is open now, worked out per request.

The dishes are cached as plain data, not as a rendered fragment: each dish has a form of its own
(Enter in its quantity adds that dish), and a form carries the reader's CSRF token, which a shared
fragment must not.
"""
from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.utils import timezone

from orders import selectors
from orders.cache_keys import MENU_DATA
from orders.models import Restaurant
from orders.services import restaurant_is_open

MENU_SECONDS = 600


def _menu_data() -> list[dict]:
    data = cache.get(MENU_DATA)
    if isinstance(data, list):
        return data
    data = [{"pk": r.pk, "name": r.name, "opens_at": r.opens_at.strftime("%H:%M:%S"),
             "closes_at": r.closes_at.strftime("%H:%M:%S"),
             "dishes": [{"pk": d.pk, "name": d.name, "description": d.description, "price": str(d.price),
                         "available": d.available} for d in r.dishes.all()]}
            for r in selectors.menu()]
    cache.set(MENU_DATA, data, MENU_SECONDS)
    return data


def _in_reader_zone(at: time, now: datetime, *, days_ahead: int = 0) -> datetime:
    """A restaurant's hour (the site's zone) on today's date there, as a moment in the reader's zone
    (timezone.get_current_timezone: a member's own, or the site's for visitors)."""
    site = timezone.get_default_timezone()
    day = now.astimezone(site).date() + timedelta(days=days_ahead)
    return datetime.combine(day, at, tzinfo=site).astimezone(timezone.get_current_timezone())


def closed_note(restaurant: Restaurant, now: datetime) -> str:
    """"" while open; else when it opens in the reader's zone, named: "opens 08:00 UTC", "opens
    03:00 EST" for a member in New York (its hours are kept in the site's zone)."""
    if restaurant_is_open(restaurant, now):
        return ""
    local = now.astimezone(timezone.get_default_timezone()).time()
    opens = _in_reader_zone(restaurant.opens_at, now, days_ahead=1 if local > restaurant.closes_at else 0)
    return f"opens {opens:%H:%M} {opens.tzname()}"


def menu_now(now: datetime) -> list[dict]:
    """Each restaurant: name, hours and "closed" ("" or "opens 08:00 UTC") in the reader's zone, dishes."""
    shown = []
    for data in _menu_data():
        restaurant = Restaurant(name=data["name"], opens_at=datetime.strptime(data["opens_at"], "%H:%M:%S").time(),
                                closes_at=datetime.strptime(data["closes_at"], "%H:%M:%S").time())
        opens, closes = (_in_reader_zone(restaurant.opens_at, now), _in_reader_zone(restaurant.closes_at, now))
        shown.append({**data, "zone": closes.tzname(), "closed": closed_note(restaurant, now),
                      "hours": f"{opens:%H:%M}–{closes:%H:%M}"})
    return shown
