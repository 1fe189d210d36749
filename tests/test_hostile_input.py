"""Every URL of the site asked with hostile parameters answers without a 5xx (security finding 13).

The routes come from the URL configuration itself, so a page added later is attacked too. Each is
asked anonymously and as a staff member (who sees every page), by GET and by POST, with every
parameter the site reads set to each value of a corpus (Unicode digits, NUL, huge numbers, long
strings, bad UTF-8, odd dates), and with each number-like parameter alone. Hypothesis then throws
arbitrary text at the parameters that are parsed as numbers or searched.
"""
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from orders.models import Dish, Restaurant
from tests.factories import AnswerFactory, QuestionFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # ≈ 40 s: some 15,000 requests

CORPUS = ["²", "٣", "１", "\x00", "a\x00b", "-1", "0", "9" * 40, "1e9", "x" * 5000, "%ff%fe", " ", "[]",
          "{\"a\": 1}", "<script>alert(1)</script>", "../../etc/passwd", "9999-12-31T23:59-14:00",
          "9999-12-31T23:59", "0001-01-01T00:00+14:00", "2026-02-30T10:00", "2026-12-02T25:61", "NaN", "∞"]
PARAMS = ["page", "q", "days", "add", "set", "qty", "remove", "eta", "address", "status", "key", "email", "next",
          "display_name", "text", "title", "tags", "value", "username", "password", "since"]
NUMBER_PARAMS = ["page", "days", "add", "set", "qty", "remove"]
SKIPPED = re.compile(r"^admin/(?!login/$)")  # Django's admin is Django's; its log-in page is ours to throttle


def routes(resolver=None, prefix: str = ""):
    """Every route of the URL configuration, its converters filled with values that resolve."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        part = prefix + _sample(str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from routes(entry, part)
        elif isinstance(entry, URLPattern) and not SKIPPED.match(part):
            yield "/" + part


def _sample(pattern: str) -> str:
    pattern = re.sub(r"<int:\w+>", "1", pattern)
    pattern = re.sub(r"<(?:str|slug|path):\w+>|<\w+>", "sushi-kaito", pattern)
    pattern = re.sub(r"\(\?P<\w+>([a-z]+)\|[^)]*\)", r"\1", pattern)  # an alternation: its first word
    pattern = re.sub(r"\(\?P<\w+>\[0-9\]\+\)", "1", pattern)
    pattern = re.sub(r"\(\?P<\w+>\.\*\)", "x", pattern)
    return pattern.lstrip("^").rstrip("$").replace("\\", "")


@pytest.fixture
def site():
    """A little of everything, so the routes with ids and slugs reach their views."""
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    question = QuestionFactory(pk=1, author=staff)
    AnswerFactory(pk=1, question=question)
    restaurant = Restaurant.objects.create(name="Sushi Kaito", slug="sushi-kaito", opens_at="00:00",
                                           closes_at="23:59", integration=Restaurant.Integration.PUSHED)
    restaurant.staff.add(staff)
    Dish.objects.create(pk=1, restaurant=restaurant, name="Maki", price="9.50")
    return staff


def clients(staff) -> list[Client]:
    member = Client(raise_request_exception=False)
    member.force_login(staff)
    return [Client(raise_request_exception=False), member]


def ask(client: Client, url: str, params: dict, *, post: bool) -> list[tuple[str, int]]:
    query = "&".join(f"{quote(k)}={v if v.startswith('%') else quote(v)}" for k, v in params.items())
    answers = [("GET", client.get(f"{url}?{query}").status_code)]
    if post:
        form = "application/x-www-form-urlencoded"
        answers.append(("POST", client.post(url, data=query, content_type=form).status_code))
        body = next(iter(params.values()), "")
        answers.append(("POST json", client.post(url, data=body, content_type="application/json").status_code))
    return answers


def test_every_route_answers_hostile_parameters_without_a_server_error(site):
    failures = []
    urls = sorted(set(routes()))
    assert len(urls) > 30 and "/orders/hooks/courier/" in urls and "/admin/login/" in urls
    for client in clients(site):
        for url in urls:
            for value in CORPUS:
                asked = [dict.fromkeys(PARAMS, value)] + [{name: value} for name in NUMBER_PARAMS]
                for params in asked:  # every parameter by every method; the number-like ones alone by GET
                    shown = {k: v[:40] for k, v in params.items()} if len(params) == 1 else value[:40]
                    failures += [(method, url, shown, status)
                                 for method, status in ask(client, url, params, post=len(params) > 1)
                                 if status >= 500]
    assert not failures, f"{len(failures)} server errors, the first: {failures[:5]}"


def test_a_delivery_time_far_away_or_beyond_the_calendar_is_refused_with_a_message(client, site):
    client.force_login(site)
    client.post("/orders/cart/update/", {"add": "1", "qty": "1"})
    far = (timezone.now() + timedelta(days=15)).strftime("%Y-%m-%dT%H:00Z")
    for eta in ["9999-12-31T23:59-14:00", "9999-12-31T23:59Z", "2026-02-30T12:00Z", far, "", "x" * 5000]:
        response = client.post("/orders/checkout/", {"eta": eta, "address": "1 Main St"})
        assert response.status_code == 400, eta
        text = response.content.decode()
        assert "That time is no longer offered" in text or "Choose a delivery time" in text, eta
        assert 'value="1 Main St"' in text, "what was typed is kept"
    assert not site.orders.exists()


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=60))
def test_arbitrary_text_in_numbers_and_searches_never_gives_a_server_error(client, value):
    for url, name in [("/", "page"), ("/search/", "q"), ("/search/", "page"), ("/search/suggest/", "q"),
                      ("/stats/", "days"), ("/tag/python/", "page")]:
        status = Client(raise_request_exception=False).get(url, {name: value}).status_code
        assert status < 500, (url, name, value)
