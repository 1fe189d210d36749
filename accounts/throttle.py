"""Log-in throttling with django-axes: what counts as one account, and what a locked-out visitor sees.

Axes counts failed log-ins per account and per client address (ask.core.clients.client_ip) and
refuses further tries for AXES_COOLOFF_MINUTES once either reaches AXES_FAILURE_LIMIT; the lock-out
ends by itself. One account has several spellings here (its e-mail or display name, any case), so
each is counted under the account's e-mail address; a name with no account counts as typed, lowered.
"""
from django.conf import settings
from django.shortcuts import render

from accounts.backends import user_of_login_name


def account_of_attempt(request, credentials: dict | None) -> str:
    typed = ((credentials or {}).get("username") or (request.POST.get("username", "") if request else "")).strip()
    typed = typed[:254]  # the longest address there is; axes keeps the name in a 255-character column
    if not typed:
        return ""
    user = user_of_login_name(typed)  # the backend's own reading of the name
    return (user.email if user else typed).lower()


def locked_out(request, original_response=None, credentials=None):
    """The page of a refused log-in (429), saying how long the pause lasts."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html",
                  {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}, status=429)
