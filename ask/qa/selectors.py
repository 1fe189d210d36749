"""Reads of the Q&A site, with their joins decided once here."""
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Substr
from django.urls import reverse

from accounts.models import User
from ask.qa.models import Answer, Question, Tag
from ask.qa.search import Found, search, sqlite_prefix_matches

QUESTIONS_PER_PAGE = 20
CARD_SOURCE = 400  # characters of a question's text its card's excerpt is made from
ANSWERS_PER_PAGE = 30
SUGGESTIONS = 8


def visible_questions() -> QuerySet[Question]:
    """Questions a moderator has not hidden: every page and search starts here."""
    return Question.objects.filter(hidden_at=None)


def visible_answers() -> QuerySet[Answer]:
    """Answers shown to anybody: neither they nor their question hidden."""
    return Answer.objects.filter(hidden_at=None, question__hidden_at=None)


def _questions() -> QuerySet[Question]:
    # The text's first characters for the card's excerpt, cut by the database: a whole text is up
    # to 30,000 characters, twenty of them a page.
    return (visible_questions().select_related("author").prefetch_related("tags")
            .defer("text", "text_html", "search_vector").annotate(text_start=Substr("text", 1, CARD_SOURCE)))


def questions_new() -> QuerySet[Question]:
    return _questions().order_by("-id")


def questions_hot() -> QuerySet[Question]:
    return _questions().order_by("-rating", "-id")


def questions_tagged(tag: Tag) -> QuerySet[Question]:
    return _questions().filter(tags=tag).order_by("-id")


def questions_by(user: User) -> QuerySet[Question]:
    return _questions().filter(author=user).order_by("-created_at", "-id")  # index ask_question_author


def answers_by(user: User) -> QuerySet[Answer]:
    return (user.answers.filter(hidden_at=None, question__hidden_at=None).select_related("question")
            .only("pk", "author_id", "rating", "is_accepted", "question__title")
            .order_by("-created_at"))  # index ask_answer_author


def answers_of(question: Question) -> QuerySet[Answer]:
    return (question.answers.filter(hidden_at=None).select_related("author").defer("text")
            .order_by("-is_accepted", "-rating", "created_at", "id"))


def tags_starting(prefix: str, limit: int = 8) -> list[str]:
    """Tag names starting with prefix, those on the most questions first (tag suggestions)."""
    if not prefix:
        return []
    tags = (Tag.objects.filter(name__startswith=prefix).annotate(used=Count("questions"))
            .order_by("-used", "name").values_list("name", flat=True)[:limit])
    return list(tags)


def user_rating(user: User) -> int:
    """Sum of the ratings of the user's questions and answers."""
    questions = visible_questions().filter(author=user).aggregate(total=Sum("rating"))["total"] or 0
    answers = Answer.objects.filter(author=user, hidden_at=None).aggregate(total=Sum("rating"))["total"] or 0
    return questions + answers


def search_questions(query: str) -> Found:
    """Ranked, word-based search on both databases, with a count (ask.qa.search); the text is kept
    for the excerpts."""
    visible = visible_questions().select_related("author").prefetch_related("tags").defer("text_html", "search_vector")
    return search(visible, query)


def suggest_titles(prefix: str) -> list[dict]:
    """Questions matching what is typed so far, the last word as a prefix."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in prefix.lower()).split() if w][:6]
    if not words:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        raw = " & ".join(words[:-1] + [words[-1] + ":*"])
        terms = SearchQuery(raw, config="english", search_type="raw")
        found = visible_questions().filter(search_vector=terms).order_by("-rating", "-id")
    else:
        found = visible_questions().filter(pk__in=sqlite_prefix_matches(words)).order_by("-rating", "-id")
    return [{"id": pk, "title": title, "url": reverse("question", args=[pk])}
            for pk, title in found.values_list("id", "title")[:SUGGESTIONS]]
