"""Caching on the real memcached: what is cached, what a change versions away, who never gets whose page."""
import re
import time

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.test import Client

from ask.qa import services
from ask.qa.cache_keys import QUESTION_CARD_FRAGMENT, SIDEBAR, SIDEBAR_FRAGMENT
from ask.qa.models import SidebarSnapshot
from ask.qa.sidebar import sidebar_calculate
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory

# Real commits: cache invalidation runs on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_an_anonymous_list_page_is_served_from_the_cache_without_queries(client, django_assert_num_queries):
    QuestionFactory(title="Cached question title")
    first = client.get("/")
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/")
    assert second["X-Cache"] == "hit" and "Cached question title" in second.content.decode()
    assert client.get("/?page=1")["X-Cache"] == "miss", "another address is another page"


def test_a_new_question_or_answer_makes_the_cached_lists_stale_at_once(client):
    client.get("/")
    services.question_create(author=UserFactory(), title="A brand new question", text="Some text here", tag_names=[])
    assert "A brand new question" in client.get("/").content.decode()
    question = QuestionFactory()
    client.get("/")
    services.answer_create(author=UserFactory(), question=question, text="An answer", question_url="x")
    response = client.get("/")
    assert response["X-Cache"] == "miss"


def test_a_vote_or_answer_or_accept_versions_away_the_question_page_and_nothing_else(client):
    question, other = QuestionFactory(), QuestionFactory()
    answer = AnswerFactory(question=question)
    for url in (f"/q/{question.pk}/", f"/q/{other.pk}/"):
        client.get(url)
    services.vote_cast(user=UserFactory(), target=answer, value=1)
    assert client.get(f"/q/{other.pk}/")["X-Cache"] == "hit"
    page = client.get(f"/q/{question.pk}/")
    assert page["X-Cache"] == "miss" and re.search(r'class="rating">1<', page.content.decode())
    assert client.get(f"/q/{question.pk}/")["X-Cache"] == "hit"
    services.answer_accept_toggle(user=question.author, answer=answer)
    assert "Accepted answer" in client.get(f"/q/{question.pk}/").content.decode()
    services.answer_create(author=UserFactory(), question=question, text="Second answer text", question_url="x")
    assert "Second answer text" in client.get(f"/q/{question.pk}/").content.decode()
    assert client.get(f"/q/{other.pk}/")["X-Cache"] == "hit"


def test_a_visitor_with_a_session_never_gets_the_anonymous_page(client):
    client.get("/")
    client.cookies["sessionid"] = "x" * 32
    assert client.get("/")["X-Cache"] == "shell miss", "a shell of their own (tests/ask/core/test_shells.py)"


def test_the_sidebar_comes_from_calc_sidebar_and_is_replaced_when_it_runs(client):
    TagFactory(name="python").questions.add(QuestionFactory())
    assert "None yet." in Client().get("/tag/python/").content.decode()  # not computed yet
    sidebar_calculate()
    assert cache.get(make_template_fragment_key(SIDEBAR_FRAGMENT)) is None
    html = Client().get("/search/?q=x").content.decode()
    assert 'href="/tag/python/">python</a>' in html
    assert cache.get(make_template_fragment_key(SIDEBAR_FRAGMENT)) is not None


def test_a_cold_cache_shows_the_sidebar_from_the_snapshot_without_recomputing(client, django_assert_max_num_queries):
    TagFactory(name="rust").questions.add(QuestionFactory())
    sidebar_calculate()
    cache.clear()
    html = client.get("/search/?q=x").content.decode()
    assert 'href="/tag/rust/">rust</a>' in html
    assert cache.get(SIDEBAR) == {"tags": [{"name": "rust", "count": 1}], "members": []}
    SidebarSnapshot.objects.all().delete()
    assert 'href="/tag/rust/">rust</a>' in Client().get("/search/?q=y").content.decode(), "served from the cache"


def test_a_question_card_fragment_is_versioned_by_what_it_shows():
    question = QuestionFactory(title="Card title here")
    as_member = Client()
    as_member.force_login(UserFactory())
    as_member.get("/")
    before = make_template_fragment_key(QUESTION_CARD_FRAGMENT, [question.pk, 0, 0, False, None])
    assert "Card title here" in cache.get(before)
    services.vote_cast(user=UserFactory(), target=question, value=1)
    # Votes leave lists cached for a minute (LIST_CACHE_SECONDS): another address renders anew.
    assert "<strong>1</strong> vote<" in as_member.get("/?page=1").content.decode()
    after = make_template_fragment_key(QUESTION_CARD_FRAGMENT, [question.pk, 1, 0, False, None])
    assert "<strong>1</strong> vote<" in cache.get(after)


def test_a_process_reuses_a_fetched_page_for_a_second_then_sees_the_change(client, settings):
    settings.ASK_PAGE_LOCAL_SECONDS = 0.5
    QuestionFactory(title="The first question")
    assert client.get("/")["X-Cache"] == "miss"
    assert client.get("/")["X-Cache"] == "local"
    services.question_create(author=UserFactory(), title="A question asked meanwhile", text="Text of it", tag_names=[])
    assert "A question asked meanwhile" not in client.get("/").content.decode(), "at most 0.5 s late"
    time.sleep(0.6)
    response = client.get("/")
    assert response["X-Cache"] == "miss" and "A question asked meanwhile" in response.content.decode()
