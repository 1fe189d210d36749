"""The per-request slots of the base layout (ask.core.shells): the member's name and profile link
in the header, and the messages of the last action. They are made for every page a member reads,
so each is a few microseconds of plain Python, not a template render."""
from functools import lru_cache

from django.contrib.messages import get_messages
from django.http import HttpRequest
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import escape


def display_name(request: HttpRequest) -> str:
    return escape(request.user.display_name)


def profile_url(request: HttpRequest) -> str:
    return _profile_url(request.user.pk)


@lru_cache(maxsize=4096)
def _profile_url(pk: int) -> str:
    return reverse("profile", args=[pk])  # ≈ 20 µs, on every page a member reads


def messages(request: HttpRequest | None) -> str:
    """What the last action said ("Your answer was posted."): read, and so used up, here only."""
    stored = get_messages(request) if request is not None else ()
    if not stored:
        return ""
    return get_template("core/messages.html").template.render(Context({"messages": stored}))
