"""A request the database made wait too long answers 503 "busy, try again", never a 500 or a hang.

Web processes run with lock_timeout and statement_timeout (settings, DB_WEB_*): a vote on a row a
job's batch holds, or a query stuck behind one, is cancelled by PostgreSQL after that long, and this
middleware turns the cancellation into a short answer the member can act on. The statement's
transaction was rolled back (the error left the view's atomic blocks), so nothing is half-written;
the page says no more than that (an earlier step of the view may have committed). Its template asks
the database nothing: the database is what is busy. SQLite's "database
is locked" after its busy timeout is the same case on the embedded site.

A database that cannot be reached (restarting, failing over, this host cut off) answers the same
503: the visitor is told to try again in a moment rather than shown the server-error page."""
import logging

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATEs: lock_not_available (lock_timeout) and query_canceled (statement_timeout).
BUSY_CODES = {"55P03": "a lock was held too long", "57014": "a statement ran too long"}
# Connection exceptions (class 08), shutting down or starting up (57P01-57P03), too many connections
# (53300); psycopg2 gives no code at all when it could not connect or the server closed the connection.
UNREACHABLE_CODES = ("08", "57P", "53300")
RETRY_AFTER_SECONDS = 2
MESSAGE = "The site is busy for a moment. Please try again in a few seconds."


def busy_reason(error: BaseException) -> str | None:
    """Why the database gave up on the request, or None when the error is not a wait."""
    if not isinstance(error, OperationalError):
        return None
    code = getattr(error.__cause__, "pgcode", None)
    if code in BUSY_CODES:
        return BUSY_CODES[code]
    driver_error = type(error.__cause__).__module__.startswith("psycopg2")
    if driver_error and (code is None or code.startswith(UNREACHABLE_CODES)):
        return "the database could not be reached"
    if "database is locked" in str(error):
        return "the SQLite database was locked too long"
    return None


class DatabaseBusyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        reason = busy_reason(exception)
        if reason is None:
            return None
        logger.warning("busy: %s %s answered 503: %s", request.method, request.path, reason)
        if "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"error": MESSAGE}, status=503)
        else:
            # Not render(): no context processors (the user, the sidebar) that would ask the database.
            html = get_template("busy.html").render({"message": MESSAGE, "method": request.method,
                                                     "path": request.get_full_path()})
            response = HttpResponse(html, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
