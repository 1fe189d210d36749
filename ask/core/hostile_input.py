"""Requests no page can answer sensibly, refused with a 400 before any view sees them.

A NUL character in a parameter (`/search/?q=%00`) reached PostgreSQL, which refuses NUL in any
string, as a 500. No form field or query of the site has a use for NUL, so a request carrying one in
its query string or form data gets a 400 page naming the parameter.
"""
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


class RefuseNulMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad = _nul_parameter(request)
        if bad is not None:
            body = render_to_string("400.html", {"problem": f"The parameter {bad!r} holds a NUL character."},
                                    request=None)
            return HttpResponse(body, status=400)
        return self.get_response(request)


def _nul_parameter(request: HttpRequest) -> str | None:
    if "\x00" in request.path:
        return "path"
    sources = [request.GET]
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        sources.append(request.POST)
    for params in sources:
        for key, values in params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return key.replace("\x00", "\\0")
    return None
