"""Flags from members and the staff's moderation queue: thin views over ask.qa.moderation."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from ask.core.access import staff_required
from ask.core.rate_limits import Limit, over_limit, too_many_requests
from ask.qa import moderation
from ask.qa.models import Answer, FlagReason, Question
from ask.qa.services import post_url

QUEUE_LENGTH = 50  # flagged posts of each kind on the queue page, most flagged first
HIDDEN_LENGTH = 20  # recently hidden posts shown for restoring


def _post(kind: str, pk: int) -> Question | Answer:
    model = Question if kind == "question" else Answer
    return get_object_or_404(model.objects.select_related("question") if model is Answer else model, pk=pk)


@login_required
@require_POST
def flag(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    post = _post(kind, pk)
    if post.hidden_at is not None or (kind == "answer" and post.question.hidden_at is not None):
        raise Http404("No such post.")
    if over_limit(request, Limit("qa.flag.member", "user", settings.QA_FLAG_RATE_PER_MEMBER)):
        return too_many_requests(request, what="another flag")
    try:
        moderation.flag_create(user=request.user, post=post, reason=request.POST.get("reason", ""))
    except moderation.ModerationRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Thank you: a moderator will look at it.")
    return redirect(post_url(post))


def _flagged(model) -> list:
    open_flags = Q(flags__resolved_at=None, flags__isnull=False)
    reasons = {f"n_{reason}": Count("flags", filter=open_flags & Q(flags__reason=reason))
               for reason in FlagReason.values}
    posts = (model.objects.filter(hidden_at=None, flags__resolved_at=None, flags__isnull=False)
             .annotate(flag_count=Count("flags", filter=open_flags), first_flag=Min("flags__created_at"), **reasons)
             .select_related("author", *(["question"] if model is Answer else []))
             .order_by("-flag_count", "first_flag")[:QUEUE_LENGTH])
    for post in posts:
        post.reasons = [(label, getattr(post, f"n_{value}")) for value, label in FlagReason.choices
                        if getattr(post, f"n_{value}")]
    return list(posts)


@staff_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    hidden = [*Question.objects.exclude(hidden_at=None).select_related("author")
              .order_by("-hidden_at")[:HIDDEN_LENGTH],
              *Answer.objects.exclude(hidden_at=None).select_related("author", "question")
              .order_by("-hidden_at")[:HIDDEN_LENGTH]]
    hidden.sort(key=lambda post: post.hidden_at, reverse=True)
    for post in hidden:
        post.kind = "question" if isinstance(post, Question) else "answer"
    return render(request, "ask/moderation.html", {
        "questions": _flagged(Question), "answers": _flagged(Answer), "hidden": hidden[:HIDDEN_LENGTH],
        "reasons": FlagReason.choices, "grace_days": settings.QA_SPAM_GRACE_DAYS,
    })


@staff_required
@require_POST
def act(request: HttpRequest, kind: str, pk: int, action: str) -> HttpResponse:
    """hide (with a reason), restore, or dismiss the flags of a post; back to the queue."""
    post = _post(kind, pk)
    try:
        if action == "hide":
            done = moderation.post_hide(post=post, reason=request.POST.get("reason", ""))
            messages.success(request, f"The {kind} is hidden." if done else f"The {kind} was hidden already.")
        elif action == "restore":
            done = moderation.post_restore(post=post)
            messages.success(request, f"The {kind} is shown again." if done else f"The {kind} was not hidden.")
        else:
            count = moderation.flags_resolve(post=post)
            messages.success(request, f"{count} flag{'s' if count != 1 else ''} dismissed.")
    except moderation.ModerationRefused as refused:
        messages.error(request, str(refused))
    return redirect(reverse("moderation"))


@staff_required
@require_POST
def suspend(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    try:
        hidden = moderation.member_suspend(member=member, hide_posts=request.POST.get("hide_posts") == "1")
    except moderation.ModerationRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{member.display_name} is suspended; {hidden} of their posts hidden as spam.")
    return redirect(reverse("moderation"))
