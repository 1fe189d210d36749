"""The site's own endpoints: /healthz."""
import hmac

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from ask.core.health import DOWN, recent_health_report


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the site can serve (maybe "degraded"), 503 when the database is unreachable.

    Anybody gets the status; the checks (hosts, folders, job errors) only staff or a caller with
    `Authorization: Bearer HEALTHZ_TOKEN`, since they map the installation for an attacker."""
    status, report = recent_health_report()
    shown = report if _may_see_details(request) else {"status": status}
    return JsonResponse(shown, status=503 if status == DOWN else 200)


def _may_see_details(request: HttpRequest) -> bool:
    token = settings.HEALTHZ_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return True
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False  # no session, no staff: and no database query for it
    try:
        return request.user.is_staff
    except DatabaseError:  # the database is down: the report says so; who is asking cannot be known
        return False
