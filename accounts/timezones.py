"""Each member's own time zone: times on their pages and in their mail are shown in it, named.

The browser tells it: site.js sets the `tz` cookie (Intl's zone) for a member whose profile has none
yet, and this middleware keeps it in the profile; the settings page changes it. Only members get
their zone: pages for visitors are cached and shared, so they keep the site's (TIME_ZONE), named too.
"""
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE = "tz"


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_of(name: str | None) -> ZoneInfo | None:
    """The zone of an IANA name ("America/New_York"), or None for anything else (a planted cookie)."""
    return ZoneInfo(name) if name and name in zone_names() else None


def member_zone(user) -> ZoneInfo:
    """The zone a member's times are shown in: their own, else the site's."""
    return zone_of(getattr(user, "time_zone", "")) or timezone.get_default_timezone()


class MemberTimeZoneMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            zone = _member_zone_now(request)
        except DatabaseError:  # out of reach or busy: the view meets it too, and answers 503
            zone = None
        if zone is not None:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _member_zone_now(request: HttpRequest) -> ZoneInfo | None:
    """The member's zone, kept from the browser's cookie the first time; None for a visitor."""
    user = request.user
    if not user.is_authenticated:
        return None
    if not user.time_zone and zone_of(request.COOKIES.get(COOKIE)):
        user.time_zone = request.COOKIES[COOKIE]
        user.__class__.objects.filter(pk=user.pk).update(time_zone=user.time_zone)  # through the lazy user
    return member_zone(user)
