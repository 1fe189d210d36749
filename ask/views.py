"""Site-wide pages: home, health and error pages."""
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ask.health import DOWN, health_report


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "ask/home.html")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the site can serve (maybe "degraded"), 503 when the database is unreachable."""
    status, report = health_report()
    return JsonResponse(report, status=503 if status == DOWN else 200)
