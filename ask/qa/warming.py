"""Warm the caches of the hottest pages after a deploy or a cache flush, as a visitor would."""
from django.conf import settings
from django.test import Client
from django.urls import reverse

from ask.qa.models import Question
from ask.qa.selectors import QUESTIONS_PER_PAGE
from ask.qa.sidebar import sidebar

LIST_PAGES = 5  # first pages of the new and hot lists
TOP_QUESTIONS = 100  # the most highly rated questions' pages
TOP_TAGS = 10


def hottest_urls() -> list[str]:
    pages = min(LIST_PAGES, max(1, -(-Question.objects.count() // QUESTIONS_PER_PAGE)))
    urls = [f"{reverse(name)}?page={n}" if n > 1 else reverse(name)
            for name in ("home", "hot") for n in range(1, pages + 1)]
    urls += [reverse("tag", args=[tag["name"]]) for tag in sidebar()["tags"][:TOP_TAGS]]
    best = Question.objects.filter(hidden_at=None).order_by("-rating", "-id").values_list("pk", flat=True)
    urls += [reverse("question", args=[pk]) for pk in best[:TOP_QUESTIONS]]
    return urls


def page_warm(url: str, client: Client) -> int:
    """Fetch the page as an anonymous visitor; its response lands in the cache. Returns the status."""
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h), "localhost")
    return client.get(url, HTTP_HOST=host.lstrip(".")).status_code


