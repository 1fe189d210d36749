"""Sign-up, activation, resend and settings pages; log-in and password pages are Django's own views."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.email_change import EmailChangeError, email_change_pending, email_change_request
from accounts.email_change import email_change_confirm as email_change_confirm_service
from accounts.forms import (
    ActivationForm, EmailChangeForm, PasswordResetForm, ProfileForm, ResendForm, SignUpForm,
)
from accounts.services import (
    KEY_FORMAT, ActivationError, account_activate, activation_pending, activation_resend, password_kept,
    profile_update, user_sign_up,
)
from ask.core.mail_files import mail_folder
from ask.core.rate_limits import Limit, over_limit, posted_email, too_many_requests

# HTTP status of each reason an activation link did not work ("missing": no key in the session).
ACTIVATION_FAILURE_STATUS = {"malformed": 400, "missing": 400, "unknown": 404, "used": 410, "replaced": 410,
                             "expired": 410, "deactivated": 403}
SESSION_KEY = "activation_key"  # the key of the link opened in this browser, until it is used
SESSION_SIGNED_UP = "signed_up_key_hash"  # the hash of the key this browser's sign-up mailed
SESSION_EMAIL_CHANGE = "email_change_token"  # the token of the address-change link opened here
EMAIL_CHANGE_FAILURE_STATUS = {"invalid": 400, "expired": 410, "used": 410, "other_member": 403, "taken": 409}


def _over_limit(request: HttpRequest, action: str) -> bool:
    """Count a sign-up, resend or reset per address and per client (ACCOUNTS_<ACTION>_RATE_PER_*)."""
    rate = f"ACCOUNTS_{action.upper()}_RATE_PER_"
    return over_limit(request, Limit(f"accounts.{action}.address", posted_email, getattr(settings, rate + "ADDRESS")),
                      Limit(f"accounts.{action}.client", "ip", getattr(settings, rate + "CLIENT")))


def _activation_url(request: HttpRequest):
    return lambda key: request.build_absolute_uri(reverse("activate", args=[key]))


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _over_limit(request, "sign_up"):
            return too_many_requests(request, what="another sign-up")
        signed_up = user_sign_up(
            email=form.cleaned_data["email"], display_name=form.cleaned_data["display_name"],
            password=form.cleaned_data["password1"], activation_url=_activation_url(request),
        )
        request.session["signed_up_email"] = form.cleaned_data["email"]
        request.session[SESSION_SIGNED_UP] = signed_up.key_hash
        return redirect("sign_up_done")
    return render(request, "accounts/sign_up.html", {"form": form})


def sign_up_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/sign_up_done.html", {
        "email": request.session.get("signed_up_email", ""), "days": settings.ACCOUNT_ACTIVATION_DAYS,
        "mail_folder": mail_folder(),
    })


def activate(request: HttpRequest, key: str) -> HttpResponse:
    """The mailed link: keeps the key in the session and moves it out of the address bar (and the
    Referer and later access-log lines) to the confirmation page. Activating takes a POST there, so
    a link an attacker sends cannot log anybody into the attacker's account by being opened."""
    if not KEY_FORMAT.match(key):
        return _activation_failed(request, "malformed")
    request.session[SESSION_KEY] = key
    return redirect("activate_confirm")


@require_http_methods(["GET", "POST"])
def activate_confirm(request: HttpRequest) -> HttpResponse:
    key = request.session.get(SESSION_KEY, "")
    if not key:
        return _activation_failed(request, "missing")
    try:
        pending = activation_pending(key=key)
    except ActivationError as failure:
        return _activation_failed(request, failure.reason)
    signed_up = request.session.get(SESSION_SIGNED_UP)
    needs_password = not password_kept(key=key, signed_up_key_hash=signed_up)
    form = ActivationForm(pending if needs_password else None, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_activate(key=key, signed_up_key_hash=signed_up, new_password=form.new_password)
        except ActivationError as failure:
            return _activation_failed(request, failure.reason)
        for name in (SESSION_KEY, SESSION_SIGNED_UP):
            request.session.pop(name, None)
        login(request, user, backend=settings.SITE_AUTH_BACKEND)
        messages.success(request, f"Welcome, {user.display_name}: your account is active.")
        return redirect("home")
    return render(request, "accounts/activate_confirm.html",
                  {"form": form, "pending": pending, "needs_password": needs_password},
                  status=400 if form.errors else 200)


def _activation_failed(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "accounts/activation_failed.html", {"reason": reason},
                  status=ACTIVATION_FAILURE_STATUS[reason])


@require_http_methods(["GET", "POST"])
def resend(request: HttpRequest) -> HttpResponse:
    form = ResendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _over_limit(request, "resend"):
            return too_many_requests(request, what="another activation link")
        activation_resend(email=form.cleaned_data["email"], activation_url=_activation_url(request))
        return redirect("resend_done")
    return render(request, "accounts/resend.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's page, limited like resend (per address and per client) and with the site's form:
    the mail goes through the outbox as a one-time link, and imported members can set a password."""

    form_class = PasswordResetForm

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _over_limit(request, "reset"):
            return too_many_requests(request, what="another password reset link")
        return super().post(request, *args, **kwargs)


def resend_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/resend_done.html")


@login_required
@require_http_methods(["GET", "POST"])
def profile_settings(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, request.FILES or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        profile_update(user=request.user, display_name=form.cleaned_data["display_name"],
                       avatar=request.FILES.get("avatar"), clear_avatar=form.cleaned_data.get("avatar") is False,
                       time_zone=form.cleaned_data["time_zone"])
        messages.success(request, "Your settings were saved.")
        return redirect("settings")
    if form.errors:
        request.user.refresh_from_db()  # the page shows the saved name, not the refused one
    return render(request, "accounts/settings.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def email_change(request: HttpRequest) -> HttpResponse:
    """Ask for a new address: the current password, then a link mailed to the new address."""
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        # Each try checks the password and may mail an address of the caller's choice: both limited.
        if over_limit(request, Limit("accounts.email_change.member", "user", settings.ACCOUNTS_EMAIL_CHANGE_RATE)):
            return too_many_requests(request, what="another change of address")
        if form.is_valid():
            email_change_request(user=request.user, new_email=form.cleaned_data["new_email"],
                                 confirm_url=lambda token: request.build_absolute_uri(
                                     reverse("email_change_link", args=[token])))
            messages.success(request, f"We sent a link to {form.cleaned_data['new_email']}: your address "
                                      "changes when you open it while logged in.")
            return redirect("settings")
    return render(request, "accounts/email_change.html", {"form": form}, status=400 if form.errors else 200)


def email_change_link(request: HttpRequest, token: str) -> HttpResponse:
    """The mailed link: the token goes to the session and out of the address bar (and access logs)."""
    request.session[SESSION_EMAIL_CHANGE] = token
    return redirect("email_change_confirm")


@login_required
@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest) -> HttpResponse:
    token = request.session.get(SESSION_EMAIL_CHANGE, "")
    try:
        pending = email_change_pending(token=token, user=request.user)
        if request.method == "POST":
            user = email_change_confirm_service(token=token, user=request.user)
            request.session.pop(SESSION_EMAIL_CHANGE, None)
            update_session_auth_hash(request, user)  # this browser stays logged in; every other one is out
            messages.success(request, f"Your e-mail address is now {user.email}.")
            return redirect("settings")
    except EmailChangeError as failure:
        request.session.pop(SESSION_EMAIL_CHANGE, None)
        return render(request, "accounts/email_change_failed.html", {"reason": failure.reason},
                      status=EMAIL_CHANGE_FAILURE_STATUS[failure.reason])
    return render(request, "accounts/email_change_confirm.html", {"pending": pending})
