"""Following tags and questions, the digest settings and the one-click unsubscribe: thin views over ask.qa.digests."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ask.qa import digests
from ask.qa.models import DigestFrequency, Tag
from ask.qa.selectors import visible_questions


FOLLOWED_SHOWN = 50  # followed questions listed on the digest page, the newest followed first


class DigestForm(forms.Form):
    frequency = forms.ChoiceField(label="Digest", choices=DigestFrequency.choices, widget=forms.RadioSelect,
                                  help_text="New questions in the tags you follow and new answers on your "
                                            "questions and the ones you follow, mailed around 06:13 "
                                            "(weekly: every seventh day).")


def _wants_follow(request: HttpRequest) -> bool:
    return request.POST.get("follow") != "0"


@login_required
@require_POST
def tag_follow(request: HttpRequest, name: str) -> HttpResponse:
    tag = get_object_or_404(Tag, name=name)
    digests.tag_follow(user=request.user, tag=tag, follow=_wants_follow(request))
    messages.success(request, f"You follow “{name}”." if _wants_follow(request) else f"You no longer follow “{name}”.")
    if request.POST.get("back") == "settings":
        return redirect("digest_settings")
    return redirect("tag", name=name)


@login_required
@require_POST
def question_follow(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(visible_questions(), pk=pk)
    digests.question_follow(user=request.user, question=question, follow=_wants_follow(request))
    messages.success(request, "You follow this question." if _wants_follow(request)
                     else "You no longer follow this question.")
    return redirect("digest_settings") if request.POST.get("back") == "settings" else redirect("question", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def digest_settings(request: HttpRequest) -> HttpResponse:
    digest = digests.digest_of(request.user)
    form = DigestForm(request.POST or None, initial={"frequency": digest.frequency})
    if request.method == "POST" and form.is_valid():
        digest.frequency = form.cleaned_data["frequency"]
        digest.save(update_fields=["frequency"])
        messages.success(request, "Your digest settings are saved.")
        return redirect("digest_settings")
    return render(request, "ask/digest_settings.html", {
        "form": form,
        "tags": Tag.objects.filter(followers__user=request.user).order_by("name"),
        "questions": visible_questions().filter(followers__user=request.user).only("pk", "title")
                     .order_by("-followers__created_at")[:FOLLOWED_SHOWN],
    }, status=400 if form.errors else 200)


@csrf_exempt  # the token is the credential: mail clients post here with no cookie (RFC 8058 one-click)
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (a link checker opening the mail must not unsubscribe anybody); POST unsubscribes."""
    if request.method == "GET":
        valid = digests.unsubscribe_token_valid(token)
        return render(request, "ask/digest_unsubscribe.html", {"valid": valid}, status=200 if valid else 404)
    user = digests.digest_unsubscribe(token)
    if user is None:
        return render(request, "ask/digest_unsubscribe.html", {"valid": False}, status=404)
    return render(request, "ask/digest_unsubscribe.html", {"valid": True, "done": True})

