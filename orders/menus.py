"""The menu as the page shows it: every restaurant's dishes from the cache (dropped on every change,
orders.services.menu_invalidate), and whether each restaurant is open now, worked out per request.

The dishes are cached as plain data, not as a rendered fragment: each dish has a form of its own
(Enter in its quantity adds that dish), and a form carries the reader's CSRF token, which a shared
fragment must not.
"""
from datetime import datetime

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


def closed_note(restaurant: Restaurant, now: datetime) -> str:
    """"" while open; else "opens 08:00 UTC" (its hours are in the site's zone)."""
    if restaurant_is_open(restaurant, now):
        return ""
    zone = timezone.get_default_timezone()
    return f"opens {restaurant.opens_at:%H:%M} {now.astimezone(zone).tzname()}"


def menu_now(now: datetime) -> list[dict]:
    """Each restaurant: name, hours, "closed" ("" or "opens 08:00 UTC"), dishes."""
    zone_name = now.astimezone(timezone.get_default_timezone()).tzname()
    shown = []
    for data in _menu_data():
        restaurant = Restaurant(name=data["name"], opens_at=datetime.strptime(data["opens_at"], "%H:%M:%S").time(),
                                closes_at=datetime.strptime(data["closes_at"], "%H:%M:%S").time())
        shown.append({**data, "zone": zone_name, "closed": closed_note(restaurant, now),
                      "hours": f"{restaurant.opens_at:%H:%M}–{restaurant.closes_at:%H:%M}"})
    return shown
