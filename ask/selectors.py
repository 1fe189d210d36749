"""Reads of the Q&A site, with their joins decided once here."""
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from accounts.models import User
from ask.cache_keys import BEST
from ask.models import Answer, AnswerVote, Question, QuestionVote, SidebarSnapshot, Tag

QUESTIONS_PER_PAGE = 20
# Search ranks the newest matches only: ranking every match of a common word costs a read of each
# matching row (tens of thousands at fill_db 10000); the newest 200 (ten pages) are what people read.
SEARCH_CANDIDATES = 200
ANSWERS_PER_PAGE = 30
SUGGESTIONS = 8


def _questions() -> QuerySet[Question]:
    return Question.objects.select_related("author").prefetch_related("tags").defer("text", "text_html", "search_vector")


def questions_new() -> QuerySet[Question]:
    return _questions().order_by("-id")


def questions_hot() -> QuerySet[Question]:
    return _questions().order_by("-rating", "-id")


def questions_tagged(tag: Tag) -> QuerySet[Question]:
    return _questions().filter(tags=tag).order_by("-id")


def questions_by(user: User) -> QuerySet[Question]:
    return _questions().filter(author=user).order_by("-created_at", "-id")  # index ask_question_author


def answers_by(user: User) -> QuerySet[Answer]:
    return (user.answers.select_related("question").only("pk", "author_id", "rating", "is_accepted", "question__title")
            .order_by("-created_at"))  # index ask_answer_author


def answers_of(question: Question) -> QuerySet[Answer]:
    return question.answers.select_related("author").defer("text").order_by("-is_accepted", "-rating", "created_at", "id")


@dataclass
class Window:
    """One page of results, found without counting them all."""

    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def page_of(items, number: str | None, per_page: int) -> Window:
    """The page the user asked for: a missing number is page 1; anything else invalid is a 404.

    No COUNT(*): at fill_db 10000 counting the questions took 45 ms, 90% of the page. One row more
    than a page tells whether there is a next one.
    """
    raw = number if number not in (None, "") else "1"
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 7:
        raise Http404("No such page.")
    page = int(raw)
    rows = list(items[(page - 1) * per_page: page * per_page + 1])
    if not rows and page > 1:
        raise Http404("No such page.")
    return Window(rows[:per_page], page, len(rows) > per_page)


def votes_of(user: User, question: Question, answers: list[Answer]) -> tuple[int, dict[int, int]]:
    """The user's vote on the question and on each shown answer (two queries)."""
    if not user.is_authenticated:
        return 0, {}
    on_question = QuestionVote.objects.filter(user=user, question=question).values_list("value", flat=True).first() or 0
    on_answers = dict(AnswerVote.objects.filter(user=user, answer__in=answers).values_list("answer_id", "value"))
    return on_question, on_answers


def user_rating(user: User) -> int:
    """Sum of the ratings of the user's questions and answers."""
    questions = Question.objects.filter(author=user).aggregate(total=Sum("rating"))["total"] or 0
    answers = Answer.objects.filter(author=user).aggregate(total=Sum("rating"))["total"] or 0
    return questions + answers


def search_questions(query: str) -> QuerySet[Question]:
    """Full-text search ranked by relevance on PostgreSQL; a plain substring match elsewhere."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        terms = SearchQuery(query, config="english", search_type="websearch")
        newest = list(Question.objects.filter(search_vector=terms).order_by("-id")
                      .values_list("pk", flat=True)[:SEARCH_CANDIDATES])
        return (_questions().filter(pk__in=newest).annotate(rank=SearchRank("search_vector", terms))
                .order_by("-rank", "-id"))
    return _questions().filter(Q(title__icontains=query) | Q(text__icontains=query)).order_by("-id")


def suggest_titles(prefix: str) -> list[dict]:
    """Questions matching what is typed so far, the last word as a prefix."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in prefix.lower()).split() if w][:6]
    if not words:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        raw = " & ".join(words[:-1] + [words[-1] + ":*"])
        found = Question.objects.filter(search_vector=SearchQuery(raw, config="english", search_type="raw")).order_by("-rating", "-id")
    else:
        found = Question.objects.filter(title__icontains=" ".join(words)).order_by("-rating", "-id")
    return [{"id": pk, "title": title} for pk, title in found.values_list("id", "title")[:SUGGESTIONS]]


def sidebar() -> dict:
    """What calc_best computed: from the cache, or from its snapshot when the cache is cold."""
    best = cache.get(BEST)
    if best is None:
        snapshot = SidebarSnapshot.objects.filter(pk=1).first()
        best = {"tags": snapshot.tags, "members": snapshot.members} if snapshot else {"tags": [], "members": []}
        if snapshot:
            cache.set(BEST, best, timeout=None)
    return best
