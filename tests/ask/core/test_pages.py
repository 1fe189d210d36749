"""Every page answers, also with memcached stopped or frozen; the layout and error pages render."""
import pytest

from tests.ask.core.test_health import memcached_cache
from tests.factories import UserFactory

PUBLIC_PAGES = ["/", "/accounts/login/", "/admin/login/", "/healthz"]


@pytest.mark.django_db
def test_the_home_page_has_the_layout(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for part in ['class="site-header"', 'role="search"', 'class="main-column"', 'class="sidebar"', "Log in"]:
        assert part in html
    assert "/static/ask/css/site" in html


@pytest.mark.django_db
def test_the_header_shows_who_is_logged_in(client):
    user = UserFactory(display_name="Ada")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "Ada" in html and "Log out" in html and "Log in" not in html


@pytest.mark.django_db
def test_an_unknown_address_gets_the_friendly_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_logging_in_with_e_mail_and_password_lands_logged_in(client):
    user = UserFactory(email="ada@example.com")
    response = client.post("/accounts/login/", {"username": "ada@example.com", "password": "secret-pass-1"},
                           follow=True)
    assert response.status_code == 200 and response.wsgi_request.user == user


@pytest.mark.django_db
def test_django_messages_are_shown_on_the_next_page(rf):
    from django.contrib import messages
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    from ask.qa.views import home

    request = rf.get("/")
    request.user = AnonymousUser()
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    messages.success(request, "Your answer was saved.")
    html = home(request).content.decode()
    assert '<li class="message success">Your answer was saved.</li>' in html


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_every_page_answers_with_memcached_down(client, settings, memcached, outage):
    settings.CACHES = memcached_cache(memcached.location)
    settings.CRONJOBS = []
    getattr(memcached, "stop" if outage == "stopped" else "freeze")()
    for url in PUBLIC_PAGES:
        assert client.get(url).status_code == 200, url
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in PUBLIC_PAGES:
        assert client.get(url).status_code in (200, 302), url
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_header_marks_the_current_section_and_log_in_comes_back_to_the_page(client):
    from tests.factories import QuestionFactory

    question = QuestionFactory()
    hot = client.get("/hot/").content.decode()
    assert '<a href="/hot/" aria-current="page">Hot</a>' in hot and 'aria-current="page">New<' not in hot
    assert f'href="/accounts/login/?next=/q/{question.pk}/%3Fpage%3D1"' in client.get(
        f"/q/{question.pk}/?page=1").content.decode()
    assert 'href="/accounts/login/"' in client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in hot


@pytest.mark.django_db
def test_staff_see_kitchen_moderation_and_stats_in_the_header_members_do_not(client):
    client.force_login(UserFactory())
    member = client.get("/").content.decode()
    assert ">Moderation<" not in member and ">Stats<" not in member and ">Kitchen<" not in member
    client.force_login(UserFactory(is_staff=True))
    staff = client.get("/").content.decode()
    assert all(f">{name}<" in staff for name in ("Kitchen", "Moderation", "Stats"))


def test_page_numbers_show_the_first_the_last_and_two_either_side_with_gaps():
    from ask.core.pagination import Window

    assert Window([], 10, True, 40).numbers == [1, None, 8, 9, 10, 11, 12, None, 40]
    assert Window([], 1, True, 3).numbers == [1, 2, 3]
    assert Window([], 4, False, 4).numbers == [1, 2, 3, 4]
    assert Window([], 5, True, None).numbers == [1, None, 3, 4, 5, 6], "no total: up to the next page"


@pytest.mark.django_db
def test_lists_are_numbered_from_a_total_counted_once_in_a_while(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import QuestionFactory

    for _ in range(45):
        QuestionFactory()
    html = client.get("/?page=2").content.decode()
    assert '<span class="current" aria-current="page">2</span>' in html and 'href="?page=3">3</a>' in html
    QuestionFactory()
    client.force_login(UserFactory())
    with CaptureQueriesContext(connection) as captured:
        assert "<h1>New questions</h1>" in client.get("/?page=2").content.decode()
    assert not [q for q in captured if "COUNT(" in q["sql"].upper()], "the total came from the cache"


@pytest.mark.django_db
def test_without_the_cache_the_total_is_read_from_the_database_and_counted_again_when_old(client):
    from datetime import timedelta

    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from ask.core.models import ListTotal
    from tests.factories import QuestionFactory

    def counts(url: str) -> int:
        cache.clear()  # Memcached flushed, or down: nothing there
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len([q for q in captured if "COUNT(" in q["sql"].upper()])

    for _ in range(25):
        QuestionFactory()
    assert counts("/?page=2") == 1
    assert counts("/?page=2") == 0 and counts("/hot/") == 0, "the row counted a moment ago"
    assert ListTotal.objects.get().total == 25
    ListTotal.objects.update(counted_at=timezone.now() - timedelta(minutes=6))
    QuestionFactory()
    assert counts("/") == 1 and ListTotal.objects.get().total == 26


@pytest.mark.django_db
def test_a_post_only_address_opened_by_link_and_a_failed_csrf_check_get_pages_in_the_site_look():
    from django.test import Client

    opened = Client().get("/vote/question/1/")
    assert opened.status_code == 405 and "This address is not a page to open" in opened.content.decode()
    assert 'class="site-header"' in opened.content.decode() and opened["Allow"] == "POST"
    as_script = Client().get("/vote/question/1/", HTTP_ACCEPT="application/json")
    assert as_script.status_code == 405 and as_script.content == b""
    refused = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert refused.status_code == 403 and "This form could not be sent" in refused.content.decode()
    assert "DEBUG" not in refused.content.decode()
