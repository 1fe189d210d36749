"""Pages where authors edit or delete their posts, and every post's history: thin views over ask.qa.editing."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ask.core.pagination import page_of
from ask.core.rate_limits import Limit, over_limit, too_many_requests
from ask.qa import editing
from ask.qa.forms import AnswerForm, QuestionForm
from ask.qa.models import Answer, Question, Revision
from ask.qa.selectors import visible_answers, visible_questions
from ask.qa.services import post_url, question_url

REVISIONS_PER_PAGE = 10  # each rendered once when written (Revision.text_html), at most TEXT_MAX long


def _limited(request: HttpRequest) -> bool:
    return over_limit(request, Limit("qa.edit.member", "user", settings.QA_EDIT_RATE_PER_MEMBER))


def _refused(request: HttpRequest, post: Question | Answer, reason: str) -> HttpResponse:
    messages.error(request, reason)
    return redirect(post_url(post))


def _edit_page(request: HttpRequest, form, post: Question | Answer) -> HttpResponse:
    kind = "question" if isinstance(post, Question) else "answer"
    return render(request, "ask/edit.html", {"form": form, "kind": kind, "post": post, "back": post_url(post)},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(visible_questions(), pk=pk)
    if question.author_id != request.user.pk:
        return _refused(request, question, "Only its author can edit this question.")
    initial = {"title": question.title, "text": question.text,
               "tags": " ".join(sorted(question.tags.values_list("name", flat=True)))}
    form = QuestionForm(request.POST or None, initial=initial)
    if request.method != "POST" or not form.is_valid():
        return _edit_page(request, form, question)
    if _limited(request):
        return too_many_requests(request, what="another edit")
    data = form.cleaned_data
    try:
        changed = editing.question_edit(editor=request.user, question=question, title=data["title"],
                                        text=data["text"], tag_names=data["tags"])
    except editing.EditRefused as refused:
        return _refused(request, question, str(refused))
    messages.success(request, "Your question was saved." if changed else "Nothing was changed.")
    return redirect(post_url(question))


@login_required
@require_http_methods(["GET", "POST"])
def answer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    answer = get_object_or_404(visible_answers().select_related("question"), pk=pk)
    if answer.author_id != request.user.pk:
        return _refused(request, answer, "Only its author can edit this answer.")
    form = AnswerForm(request.POST or None, initial={"text": answer.text})
    if request.method != "POST" or not form.is_valid():
        return _edit_page(request, form, answer)
    if _limited(request):
        return too_many_requests(request, what="another edit")
    try:
        changed = editing.answer_edit(editor=request.user, answer=answer, text=form.cleaned_data["text"])
    except editing.EditRefused as refused:
        return _refused(request, answer, str(refused))
    messages.success(request, "Your answer was saved." if changed else "Nothing was changed.")
    return redirect(post_url(answer))


def _delete(request: HttpRequest, post: Question | Answer, delete) -> HttpResponse:
    """The confirmation page (GET), or the deletion (POST) and a redirect to what is left."""
    if post.author_id != request.user.pk:
        return _refused(request, post, "Only its author can delete this post.")
    kind = "question" if isinstance(post, Question) else "answer"
    if request.method != "POST":
        return render(request, "ask/delete.html", {"kind": kind, "post": post, "back": post_url(post)})
    if _limited(request):
        return too_many_requests(request, what="another deletion")
    try:
        delete(user=request.user, **{kind: post})
    except editing.EditRefused as refused:
        return _refused(request, post, str(refused))
    messages.success(request, f"Your {kind} was deleted.")
    return redirect("home") if kind == "question" else redirect(question_url(post.question))


@login_required
@require_http_methods(["GET", "POST"])
def question_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(request, get_object_or_404(visible_questions(), pk=pk), editing.question_delete)


@login_required
@require_http_methods(["GET", "POST"])
def answer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    answer = get_object_or_404(visible_answers().select_related("question"), pk=pk)
    return _delete(request, answer, editing.answer_delete)


def _history(request: HttpRequest, post: Question | Answer, revisions) -> HttpResponse:
    page = page_of(revisions.select_related("editor").defer("text").order_by("-number"), request.GET.get("page"),
                   REVISIONS_PER_PAGE)
    kind = "question" if isinstance(post, Question) else "answer"
    return render(request, "ask/history.html", {"kind": kind, "post": post, "page": page, "back": post_url(post)})


@require_GET
def question_history(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(visible_questions(), pk=pk)
    return _history(request, question, Revision.objects.filter(question=question))


@require_GET
def answer_history(request: HttpRequest, pk: int) -> HttpResponse:
    answer = get_object_or_404(visible_answers().select_related("question"), pk=pk)
    return _history(request, answer, Revision.objects.filter(answer=answer))
