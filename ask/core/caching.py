"""Per-view caching, and versions that make cached pages go stale.

A visitor with no session and no messages cookie gets the whole page from the cache, and only a
response that sets no cookie (so no CSRF token, no user name) is stored. Everyone else gets a shell
(ask.core.shells) from the cache, kept per role and time zone and filled with their own bits for each
request: nothing rendered for one user can reach another. Each cached page or shell is stored with
the versions it was rendered at; they are fetched in the same round trip (get_many), and a bump makes
every copy stale at once.

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

from ask.core.cache_keys import anonymous_page, shell_page
from ask.core.shells import Shell, StaleShell, shell_fill, shell_role, shell_variant

LOCAL_ENTRIES = 512  # pages and shells a process keeps at most (20-200 KB each), and only for a second


class _LocalPages:
    """The last pages and shells this process fetched, each usable for ASK_PAGE_LOCAL_SECONDS."""

    def __init__(self) -> None:
        self._pages: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            found = self._pages.get(key)
        if found and time.monotonic() - found[0] < settings.ASK_PAGE_LOCAL_SECONDS:
            return found[1]
        return None

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def put(self, key: str, value) -> None:
        if settings.ASK_PAGE_LOCAL_SECONDS <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._pages[key] = (now, value)
            self._pages.move_to_end(key)
            # Oldest first: those past their second serve nobody, so memory holds what this process
            # fetched in the last second (a flood of distinct addresses cannot pile up shells).
            while len(self._pages) > LOCAL_ENTRIES or now - next(iter(self._pages.values()))[0] >= \
                    settings.ASK_PAGE_LOCAL_SECONDS:
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
    return request.method in ("GET", "HEAD")


def cached_page(*, timeout: int, version_keys: Callable[..., list[str]]):
    """Cache the view's 200 responses, valid while the versions under version_keys(**view_kwargs)
    stay as they were (read in the same round trip as the page): the whole page for visitors
    without a session, the shell (ask.core.shells) for everyone else, filled for each of them.
    The view renders with shells.render_personal."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not _cacheable(request):
                return view(request, *args, **kwargs)
            role = shell_role(request)
            if role is not None:
                return _shell_page(request, role, version_keys(**kwargs), timeout, view, args, kwargs)
            page_key = anonymous_page(request.get_full_path())
            local = local_pages.get(page_key)
            if local is not None:
                return _cached_response(*local, "local")
            ver_keys = version_keys(**kwargs)
            current, page = _versioned_get(page_key, ver_keys)
            if page is not None:
                local_pages.put(page_key, (page[0], page[1]))
                return _cached_response(page[0], page[1], "hit")
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            if response.status_code == 200 and not response.cookies and not response.streaming:
                _versioned_set(page_key, ver_keys, current, (response.content, response["Content-Type"]), timeout)
                local_pages.put(page_key, (response.content, response["Content-Type"]))
                response["X-Cache"] = "miss"
                patch_vary_headers(response, ["Cookie"])
            return response

        return wrapped

    return decorator


def _versioned_get(key: str, ver_keys: list[str]) -> tuple[list, list | None]:
    """The current versions, and what is stored under key if it was stored at exactly those (one round trip)."""
    found = cache.get_many([key, *ver_keys])
    current, stored = [found.get(ver) for ver in ver_keys], found.get(key)
    if stored is not None and None not in current and stored[0] == current:
        return current, stored[1:]
    return current, None


def _versioned_set(key: str, ver_keys: list[str], current: list, value: tuple, timeout: int) -> None:
    for index, ver in enumerate(ver_keys):
        if current[index] is None:
            current[index] = new_version()
            cache.add(ver, current[index], timeout=None)
    cache.set(key, (current, *value), timeout)


def _shell_page(request: HttpRequest, role: str, ver_keys: list[str], timeout: int, view, args, kwargs):
    """The page for a reader with a session: their bits filled into the shared shell, kept like an
    anonymous page; on a miss, the view renders the shell (shells.render_personal) and it is kept."""
    key = shell_page(request.get_full_path(), shell_variant(request, role))
    shell, source, current = local_pages.get(key), "shell local", None
    if shell is None:
        current, stored = _versioned_get(key, ver_keys)
        shell, source = (Shell.from_data(stored[0]), "shell hit") if stored else (None, "")
    if shell is not None:
        try:
            response = HttpResponse(shell_fill(shell, request))
        except StaleShell:  # kept by an earlier version of the site: rendered anew below
            shell = None
        else:
            if source == "shell hit":
                local_pages.put(key, shell)
            response["X-Cache"] = source
            return response
    if current is None:  # read before the render: a change meanwhile leaves the shell stale, not current
        current, _ = _versioned_get(key, ver_keys)
    response = view(request, *args, **kwargs)
    made = getattr(response, "shell", None)
    if response.status_code == 200 and made is not None:
        _versioned_set(key, ver_keys, current, (made.to_data(),), timeout)
        local_pages.put(key, made)
        response["X-Cache"] = "shell miss"
    return response


def _cached_response(content: bytes, content_type: str, source: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["X-Cache"] = source
    response["Vary"] = "Cookie"  # what we send a visitor with a session differs: shared caches must know
    return response
