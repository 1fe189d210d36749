"""Rate limits on what queues mail or writes for others: a thin layer over django-ratelimit.

Each limited action counts several keys at once (the address asked about, the client, the member), so
one address cannot be flooded from many clients and one client cannot walk many addresses. Every key
is counted on every try, even when another is already over: a client that keeps trying stays limited.
Counters live in the shared cache (memcached's incr), so all web hosts count together; a cache outage
lets requests through rather than refusing everybody.
"""
from dataclasses import dataclass
from typing import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


@dataclass(frozen=True)
class Limit:
    group: str  # the counter's name, e.g. "accounts.reset.address"
    key: str | Callable[[str, HttpRequest], str]  # django-ratelimit's key: "ip", "user" or a callable
    rate: str  # "3/h", "20/10m": django-ratelimit's rate (a setting, so an admin can change it)


def over_limit(request: HttpRequest, *limits: Limit) -> bool:
    """Count this try under every limit; True when any of them is exceeded."""
    results = [is_ratelimited(request, group=limit.group, key=limit.key, rate=limit.rate, increment=True)
               for limit in limits]
    return any(results)


def posted_email(group: str, request: HttpRequest) -> str:
    """The key of a per-address limit: the e-mail address of the form, as the site stores addresses."""
    return request.POST.get("email", "").strip().lower()


def too_many_requests(request: HttpRequest, *, what: str) -> HttpResponse:
    """The page a limited client sees (429): the same whatever the address, so it tells nothing about it."""
    return render(request, "rate_limited.html", {"what": what}, status=429)
