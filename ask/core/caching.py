"""Per-view caching for visitors without a session, and versions that make cached pages go stale.

A page is served from the cache only to a visitor with no session and no messages cookie, and only
a response that sets no cookie (so no CSRF token, no user name) is stored: nothing rendered for one
user can reach another. Each cached page is stored with the version it was rendered at; the page's
version key is fetched in the same round trip (get_many), and a bump makes every copy stale at once.

A web process also keeps the pages it fetched for ASK_PAGE_LOCAL_SECONDS (1 s): a Memcached round
trip (≈ 0.1 ms here) is as long as a whole bare Django view, so a hot page is served from process
memory for a second after each fetch, and may be up to that much late after a change.
"""
import threading
import time
from collections import OrderedDict
from functools import wraps
from typing import Callable

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from ask.core.cache_keys import anonymous_page

PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")
LOCAL_ENTRIES = 512  # pages a process keeps: ≈ 512 × 20 KB = 10 MB at most


class _LocalPages:
    """The last pages this process fetched, each usable for ASK_PAGE_LOCAL_SECONDS."""

    def __init__(self) -> None:
        self._pages: OrderedDict[str, tuple[float, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._pages.get(key)
        if found and time.monotonic() - found[0] < settings.ASK_PAGE_LOCAL_SECONDS:
            return found[1], found[2]
        return None

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def put(self, key: str, content: bytes, content_type: str) -> None:
        if settings.ASK_PAGE_LOCAL_SECONDS <= 0:
            return
        with self._lock:
            self._pages[key] = (time.monotonic(), content, content_type)
            self._pages.move_to_end(key)
            while len(self._pages) > LOCAL_ENTRIES:
                self._pages.popitem(last=False)


local_pages = _LocalPages()


def new_version() -> int:
    return time.time_ns()


def bump(*version_keys: str) -> None:
    """Make every page cached under these versions stale (call it on commit)."""
    cache.set_many({key: new_version() for key in version_keys}, timeout=None)


def cache_servers_down() -> list[str]:
    """The Memcached servers of the default cache that do not answer (empty for the file cache)."""
    probe = getattr(cache, "servers_down", None)
    return probe() if probe else []


def caches_clear() -> list[str]:
    """Empty every configured cache (after a restore, whatever they hold is of another database):
    Memcached's flush_all on each server of the pool, the file cache's files. Returns one line for
    each cache that could not be cleared; a pool half down must not end the restore that called it."""
    problems = []
    for alias in settings.CACHES:
        try:
            caches[alias].clear()
        except Exception as error:  # noqa: BLE001 - any backend's failure: reported, never raised
            problems.append(f"cache {alias!r} not cleared: {type(error).__name__}: {error}")
    local_pages.clear()
    return problems


def _cacheable(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and not any(name in request.COOKIES for name in PERSONAL_COOKIES)


def cache_for_anonymous(*, timeout: int, version_keys: Callable[..., list[str]]):
    """Cache the view's 200 responses for visitors without a session, valid while the versions under
    version_keys(**view_kwargs) stay as they were (read in the same round trip as the page)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not _cacheable(request):
                return view(request, *args, **kwargs)
            page_key = anonymous_page(request.get_full_path())
            local = local_pages.get(page_key)
            if local is not None:
                return _cached_response(*local, "local")
            ver_keys = version_keys(**kwargs)
            found = cache.get_many([page_key, *ver_keys])
            current, page = [found.get(key) for key in ver_keys], found.get(page_key)
            if page is not None and None not in current and page[0] == current:
                local_pages.put(page_key, page[1], page[2])
                return _cached_response(page[1], page[2], "hit")
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            if response.status_code == 200 and not response.cookies and not response.streaming:
                for index, key in enumerate(ver_keys):
                    if current[index] is None:
                        current[index] = new_version()
                        cache.add(key, current[index], timeout=None)
                cache.set(page_key, (current, response.content, response["Content-Type"]), timeout)
                local_pages.put(page_key, response.content, response["Content-Type"])
                response["X-Cache"] = "miss"
                patch_vary_headers(response, ["Cookie"])
            return response

        return wrapped

    return decorator


def _cached_response(content: bytes, content_type: str, source: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["X-Cache"] = source
    response["Vary"] = "Cookie"  # what we send a visitor with a session differs: shared caches must know
    return response
