"""Per-view caching for visitors without a session, and versions that make cached pages go stale.

A page is served from the cache only to a visitor with no session and no messages cookie, and only
a response that sets no cookie (so no CSRF token, no user name) is stored: nothing rendered for one
user can reach another. Each cached page is stored with the version it was rendered at; the page's
version key is fetched in the same round trip (get_many), and a bump makes every copy stale at once.
"""
import time
from functools import wraps
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from ask.cache_keys import anonymous_page

PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")


def new_version() -> int:
    return time.time_ns()


def bump(*version_keys: str) -> None:
    """Make every page cached under these versions stale (call it on commit)."""
    cache.set_many({key: new_version() for key in version_keys}, timeout=None)


def _cacheable(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and not any(name in request.COOKIES for name in PERSONAL_COOKIES)


def cache_for_anonymous(*, timeout: int, version_key: Callable[..., str]):
    """Cache the view's 200 responses for visitors without a session; version_key(**view_kwargs)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not _cacheable(request):
                return view(request, *args, **kwargs)
            page_key, ver_key = anonymous_page(request.get_full_path()), version_key(**kwargs)
            found = cache.get_many([page_key, ver_key])
            current, page = found.get(ver_key), found.get(page_key)
            if page is not None and current is not None and page[0] == current:
                response = HttpResponse(page[1], content_type=page[2])
                response["X-Cache"] = "hit"
                return response
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            if response.status_code == 200 and not response.cookies and not response.streaming:
                if current is None:
                    current = new_version()
                    cache.add(ver_key, current, timeout=None)
                cache.set(page_key, (current, response.content, response["Content-Type"]), timeout)
                response["X-Cache"] = "miss"
            return response

        return wrapped

    return decorator
