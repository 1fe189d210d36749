"""Error pages in the site's look for what Django answers bare: a method a URL does not take (405,
an empty body: a browser shows its own "This page isn't working") and a failed CSRF check (403,
Django's unstyled page that talks of DEBUG)."""
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


class StyledMethodNotAllowedMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        wants_html = "application/json" not in request.headers.get("Accept", "")
        if response.status_code == 405 and not response.content and wants_html:
            response.content = render_to_string("405.html", {"allowed": response.get("Allow", "")}, request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
        return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: what to do, not why Django refused."""
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)
