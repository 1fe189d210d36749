"""The site's URLs plus /__bare__/NAME/: a view that returns stored HTML, the floor a page is measured against."""
import os
from pathlib import Path

from django.http import HttpResponse
from django.urls import path

import ask.urls

_html: dict[str, bytes] = {}


def bare(request, name: str) -> HttpResponse:
    if name not in _html:
        _html[name] = (Path(os.environ["BENCH_HTML_DIR"]) / f"{name}.html").read_bytes()
    return HttpResponse(_html[name])


urlpatterns = [path("__bare__/<str:name>/", bare), *ask.urls.urlpatterns]
