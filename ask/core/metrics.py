"""GET /metrics for Prometheus, closed to the public (METRICS_TOKEN as a Bearer token; unset: 404).

Two parts. django-prometheus's request figures (latency and responses by view, method and status),
kept per process; under gunicorn, scripts/gunicorn.conf.py gives every worker one
PROMETHEUS_MULTIPROC_DIR so a scrape of any worker sums them all. And the site's own gauges, read
from the database at scrape time, so every host answers the same: jobs (ask.core.metrics_jobs), the
outbox, and what each app registers (orders: orders.metrics).
"""
import os
from typing import Callable, Iterable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ask.core.tokens import token_hash, token_matches

Collect = Callable[[], Iterable[Metric]]
_collectors: dict[str, Collect] = {}


def register(name: str, collect: Collect) -> None:
    """Add gauges to /metrics (from AppConfig.ready(); a name again replaces it)."""
    _collectors[name] = collect


class _SiteGauges:
    def collect(self) -> Iterable[Metric]:
        for collect in _collectors.values():
            yield from collect()


def _process_figures() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_text() -> bytes:
    site = CollectorRegistry()
    site.register(_SiteGauges())
    return _process_figures() + generate_latest(site)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    configured = settings.METRICS_TOKEN
    if not configured:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    header = request.headers.get("Authorization", "")
    if not token_matches(header[7:] if header.startswith("Bearer ") else "", token_hash(configured)):
        return HttpResponse("a Bearer token is needed\n", status=403, content_type="text/plain")
    response = HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
