"""Pages of the Q&A site: thin views over ask.qa.selectors and ask.qa.services."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from ask.core.caching import cached_page
from ask.core.pagination import counted_total, page_of
from ask.core.shells import render_personal
from ask.core.rate_limits import Limit, over_limit, too_many_requests
from ask.qa import selectors, services
from ask.qa.cache_keys import BULK_VERSION, LISTS_VERSION, list_total, question_version
from ask.qa.forms import TEXT_MAX, AnswerForm, QuestionForm
from ask.qa.models import Answer, Question, Tag
from ask.qa.search import SEARCH_CANDIDATES
from ask.qa.text import excerpt, highlight, render_markdown, word_pattern

# How long a cached page may be served to anonymous visitors. New questions, answers and accepts
# make cached lists stale at once (LISTS_VERSION); votes do not, so ratings on lists lag by this much.
LIST_CACHE_SECONDS = 60
# Question pages are versioned by every change on them, so this only bounds memory, not staleness.
QUESTION_CACHE_SECONDS = 600


def _lists_version(**kwargs) -> list[str]:
    return [LISTS_VERSION]


def _question_list(request: HttpRequest, questions, *, title: str, heading: str, total: str,
                   extra: dict | None = None):
    counted = counted_total(list_total(total), questions)
    page = page_of(questions, request.GET.get("page"), selectors.QUESTIONS_PER_PAGE, total=counted)
    return render_personal(request, "ask/question_list.html",
                           {"page": page, "title": title, "heading": heading, **(extra or {})})


@require_GET
@cached_page(timeout=LIST_CACHE_SECONDS, version_keys=_lists_version)
def home(request: HttpRequest) -> HttpResponse:
    return _question_list(request, selectors.questions_new(), title="New questions", heading="New questions",
                          total="new")


@require_GET
@cached_page(timeout=LIST_CACHE_SECONDS, version_keys=_lists_version)
def hot(request: HttpRequest) -> HttpResponse:
    return _question_list(request, selectors.questions_hot(), title="Hot questions", heading="Hot questions",
                          total="new")


@require_GET
@cached_page(timeout=LIST_CACHE_SECONDS, version_keys=_lists_version)
def tag(request: HttpRequest, name: str) -> HttpResponse:
    found = get_object_or_404(Tag, name=name)
    return _question_list(request, selectors.questions_tagged(found), title=f"Tagged {name}",
                          heading=f"Questions tagged “{name}”", total=f"tag:{name}",
                          extra={"tag": found})


def _question_version(*, pk: int) -> list[str]:
    return [question_version(pk), BULK_VERSION]


@require_GET
@cached_page(timeout=QUESTION_CACHE_SECONDS, version_keys=_question_version)
def question(request: HttpRequest, pk: int) -> HttpResponse:
    return _question_page(request, pk, AnswerForm())


def _question_page(request: HttpRequest, pk: int, form: AnswerForm, status: int = 200) -> HttpResponse:
    """The question with a page of its answers. What is the reader's own (their votes, flags, follow,
    controls) is filled in per reader (ask.qa.slots), so the rest is shared by all who read it."""
    # Staff see a hidden question too (the moderation queue links to it), marked as hidden.
    questions = Question.objects.all() if request.user.is_staff else selectors.visible_questions()
    shown = get_object_or_404(questions.select_related("author").prefetch_related("tags"), pk=pk)
    page = page_of(selectors.answers_of(shown), request.GET.get("page"), selectors.ANSWERS_PER_PAGE,
                   total=shown.answer_count)
    return render_personal(request, "ask/question.html", {"question": shown, "page": page, "form": form},
                           status=status)


@login_required
@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    shown = get_object_or_404(selectors.visible_questions().select_related("author"), pk=pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _question_page(request, pk, form, status=400)
    # Each answer mails the asker: a limit per member and per client keeps a script from flooding them.
    if over_limit(request, Limit("qa.answer.member", "user", settings.QA_ANSWER_RATE_PER_MEMBER),
                  Limit("qa.answer.client", "ip", settings.QA_ANSWER_RATE_PER_CLIENT)):
        return too_many_requests(request, what="another answer")
    created = services.answer_create(author=request.user, question=shown, text=form.cleaned_data["text"],
                                     question_url=request.build_absolute_uri(services.question_url(shown)))
    messages.success(request, "Your answer was posted.")
    return redirect(f"{services.question_url(shown)}#answer-{created.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = services.question_create(author=request.user, title=form.cleaned_data["title"],
                                           text=form.cleaned_data["text"], tag_names=form.cleaned_data["tags"])
        messages.success(request, "Your question was posted.")
        return redirect("question", pk=created.pk)
    return render(request, "ask/ask.html", {"form": form}, status=400 if form.errors else 200)


def _vote_value(request: HttpRequest) -> int | None:
    try:
        value = int(request.POST.get("value", ""))
    except ValueError:
        return None
    return value if value in (-1, 0, 1) else None


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def vote(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """+1, -1 or 0 (withdraw) on a question or answer; JSON for scripts, a redirect for plain forms."""
    if not request.user.is_authenticated:
        if _wants_json(request):
            return JsonResponse({"error": "Log in to vote."}, status=401)
        return redirect_to_login(request.POST.get("next") or "/")
    value = _vote_value(request)
    if value is None:
        return JsonResponse({"error": "A vote is 1, -1 or 0."}, status=400)
    posts = selectors.visible_questions() if kind == "question" else selectors.visible_answers()
    target = get_object_or_404(posts, pk=pk)
    try:
        rating = services.vote_cast(user=request.user, target=target, value=value)
    except services.VoteRefused as refused:
        return JsonResponse({"error": str(refused)}, status=403)
    if _wants_json(request):
        return JsonResponse({"rating": rating, "vote": value})
    question_id = target.pk if kind == "question" else target.question_id
    return redirect("question", pk=question_id)


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    chosen = get_object_or_404(selectors.visible_answers(), pk=pk)
    try:
        accepted = services.answer_accept_toggle(user=request.user, answer=chosen)
    except Answer.DoesNotExist:
        raise Http404("No such answer.") from None
    except PermissionDenied as denied:
        return JsonResponse({"error": str(denied)}, status=403)
    if _wants_json(request):
        return JsonResponse({"accepted": accepted, "answer": chosen.pk})
    return redirect(services.post_url(chosen))


@require_GET
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk, is_active=True)
    return render(request, "ask/profile.html", {
        "member": member, "rating": selectors.user_rating(member),
        "questions": selectors.questions_by(member)[:20],
        "answers": selectors.answers_by(member)[:20],
    })


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    found = selectors.search_questions(query)
    page = page_of(found.questions, request.GET.get("page"), selectors.QUESTIONS_PER_PAGE,
                   total=min(found.total, SEARCH_CANDIDATES))
    marks = word_pattern(found.words)
    for result in page.object_list:
        result.marked_title, result.excerpt = highlight(result.title, marks), excerpt(result.text, found.words)
    return render(request, "ask/search.html", {
        "page": page, "query": query, "found": found, "title": f"Search: {query}" if query else "Search",
    })


@login_required
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The Markdown of a form rendered by the renderer that stores it: what you see is what is kept."""
    text = request.POST.get("text", "")
    if len(text) > TEXT_MAX:
        return JsonResponse({"error": f"At most {TEXT_MAX:,} characters, please."}, status=400)
    if over_limit(request, Limit("qa.preview.member", "user", settings.QA_PREVIEW_RATE_PER_MEMBER)):
        return JsonResponse({"error": "Too many previews; wait a minute."}, status=429)
    return JsonResponse({"html": render_markdown(text)})


@require_GET
def tag_suggest(request: HttpRequest) -> JsonResponse:
    """Existing tags starting with what is typed, the most used first."""
    return JsonResponse({"tags": selectors.tags_starting(request.GET.get("q", "")[:32].strip().lower())})


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"suggestions": selectors.suggest_titles(request.GET.get("q", "")[:100])})
