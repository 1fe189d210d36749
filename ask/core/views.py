"""The site's own endpoints: /healthz."""
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from ask.core.health import DOWN, health_report


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the site can serve (maybe "degraded"), 503 when the database is unreachable."""
    status, report = health_report()
    return JsonResponse(report, status=503 if status == DOWN else 200)
