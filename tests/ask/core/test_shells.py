"""Shared shells on the real memcached: members, staff and visitors with a cart read the same cached
page, each with only their own bits in it (ask.core.shells, ask.qa.slots)."""
import re

import pytest
from django.test import Client

from ask.qa import services
from ask.qa.models import Flag, QuestionFollow, TagFollow
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory
from tests.support import logged_in

# Real commits: cache versions are bumped on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _read(client: Client, url: str) -> tuple[str, str]:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert "\ue000" not in html and "\ue001" not in html, "a marker left in the page"
    return html, response.get("X-Cache", "")


@pytest.fixture
def site():
    ada, bob, cy = (UserFactory(display_name=name) for name in ("AdaName", "BobName", "CyName"))
    python = TagFactory(name="python")
    question = QuestionFactory(author=ada, title="Ada asks about sorting")
    question.tags.add(python)
    answer = AnswerFactory(question=question, author=bob, text="Bob answers", text_html="<p>Bob answers</p>")
    services.vote_cast(user=bob, target=question, value=1)
    services.vote_cast(user=cy, target=answer, value=-1)
    Flag.objects.create(user=cy, question=question, reason="spam", created_at=question.created_at)
    QuestionFollow.objects.create(user=bob, question=question, created_at=question.created_at)
    TagFollow.objects.create(user=cy, tag=python, created_at=question.created_at)
    return {"ada": ada, "bob": bob, "cy": cy, "question": question, "answer": answer}


def test_members_share_one_shell_and_each_sees_only_their_own_name_token_and_votes(site):
    clients = {name: logged_in(site[name]) for name in ("ada", "bob", "cy")}
    question = site["question"]
    for url in ("/", "/hot/", "/tag/python/", f"/q/{question.pk}/"):
        sources = []
        for name, client in [*clients.items(), *clients.items()]:
            html, source = _read(client, url)
            sources.append(source)
            others = {"ada": "AdaName", "bob": "BobName", "cy": "CyName"}
            mine = others.pop(name)
            assert f'class="user-name" href="/u/{site[name].pk}/">{mine}</a>' in html, (url, name)
            # A name may appear as an author of a post; never as the one logged in.
            assert not any(f'class="user-name" href="/u/{site[o].pk}/' in html for o in others), (url, name)
        assert sources[0] == "shell miss" and set(sources[1:]) <= {"shell local", "shell hit"}, (url, sources)
    tokens = {name: TOKEN.findall(_read(client, f"/q/{question.pk}/")[0]) for name, client in clients.items()}
    assert all(tokens.values()) and not set(tokens["ada"]) & set(tokens["bob"])


def test_each_member_sees_their_own_vote_flag_follow_and_own_post_controls(site):
    question, answer = site["question"], site["answer"]
    url = f"/q/{question.pk}/"
    ada, bob, cy = (_read(logged_in(site[name]), url)[0] for name in ("ada", "bob", "cy"))
    question_vote = re.compile(r'data-kind="question".*?</div>', re.S)
    # Ada asked: her own post, no vote, Edit and Delete, Mark as correct on Bob's answer; no follow form.
    assert "disabled" in question_vote.search(ada).group(0)
    assert f'href="/q/{question.pk}/edit/">Edit</a>' in ada and "Mark as correct" in ada
    assert "this question</button>" not in ada
    # Bob voted it up and follows it; he answered, so his answer has Edit, and he cannot accept.
    assert 'class="vote-up active"' in question_vote.search(bob).group(0)
    assert "Unfollow this question" in bob and "Mark as correct" not in bob
    assert f'href="/a/{answer.pk}/edit/">Edit</a>' in bob and f'href="/q/{question.pk}/edit/"' not in bob
    # Cy voted the answer down, flagged the question as spam, and follows neither.
    assert 'class="vote-down active"' in cy and 'class="vote-up active"' not in cy
    assert "You flagged this question as spam." in cy and "You flagged" not in ada + bob
    assert "Follow this question" in cy and "Edit</a>" not in cy
    # Nobody else's state leaked: Ada and Cy never see Bob's up-vote as theirs.
    assert 'class="vote-up active"' not in question_vote.search(cy).group(0)
    tag_pages = {name: _read(logged_in(site[name]), "/tag/python/")[0] for name in ("ada", "cy")}
    assert "Unfollow “python”" in tag_pages["cy"] and "Follow “python”" in tag_pages["ada"]


def test_a_change_of_ones_own_shows_at_once_on_a_shared_shell(site):
    bob = logged_in(site["bob"])
    url = f"/q/{site['question'].pk}/"
    _read(bob, url)
    bob.post(f"/q/{site['question'].pk}/follow/", {"follow": "0"})
    html, source = _read(bob, url)
    assert "Follow this question" in html and "Unfollow" not in html
    assert "Your answer was posted." not in html
    bob.post(f"/q/{site['question'].pk}/answer/", {"text": "A second answer from Bob, long enough."})
    html, _ = _read(bob, url)
    assert html.count("Your answer was posted.") == 1, "the message, once, for him"
    assert "Your answer was posted." not in _read(logged_in(site["cy"]), url)[0]


def test_the_token_in_a_shared_shell_is_the_readers_own_and_works(site):
    cy = logged_in(site["cy"], enforce_csrf_checks=True)
    url = f"/q/{site['question'].pk}/"
    _read(logged_in(site["bob"]), url)  # the shell is made for Bob
    html, source = _read(cy, url)
    assert source in ("shell local", "shell hit")
    voted = cy.post(f"/vote/answer/{site['answer'].pk}/", {"value": "1", "csrfmiddlewaretoken": TOKEN.search(html)[1]})
    assert voted.status_code == 302
    bob_token = TOKEN.search(_read(logged_in(site["bob"]), url)[0])[1]
    refused = cy.post(f"/vote/answer/{site['answer'].pk}/", {"value": "0", "csrfmiddlewaretoken": bob_token})
    assert refused.status_code == 403, "Bob's token is no good in Cy's session"


def test_staff_shells_are_their_own_and_members_never_get_them(site):
    question = site["question"]
    question.hidden_at, question.hidden_reason = question.created_at, "spam"
    question.save(update_fields=["hidden_at", "hidden_reason"])
    staff = logged_in(UserFactory(display_name="StaffName", is_staff=True))
    html, _ = _read(staff, f"/q/{question.pk}/")
    assert "only staff see this page" in html and ">Jobs</a>" in html
    assert logged_in(site["bob"]).get(f"/q/{question.pk}/").status_code == 404
    member_home, _ = _read(logged_in(site["bob"]), "/")
    _read(staff, "/")
    assert ">Jobs</a>" not in member_home and ">Moderation</a>" not in member_home
    assert ">Jobs</a>" in _read(staff, "/")[0]


def test_members_in_other_time_zones_get_their_own_times(site):
    site["ada"].time_zone, site["bob"].time_zone = "Asia/Tokyo", "America/New_York"
    for name in ("ada", "bob"):
        site[name].save(update_fields=["time_zone"])
    url = f"/q/{site['question'].pk}/"
    tokyo, _ = _read(logged_in(site["ada"]), url)
    new_york, _ = _read(logged_in(site["bob"]), url)
    assert "JST" in tokyo and "JST" not in new_york
    assert "EST" in new_york and "EST" not in tokyo


def test_a_visitor_with_a_cart_gets_the_shell_with_their_count_and_no_token(site, client):
    html, source = _read(client, "/")
    assert source == "miss"
    session = client.session
    session["orders_cart"] = {"1": 2}
    session.save()
    client.cookies["sessionid"] = session.session_key
    html, source = _read(client, "/")
    assert source == "shell miss" and 'data-cart-count>2</span>' in html and "csrfmiddlewaretoken" not in html
    assert 'data-cart-count>0</span>' in _read(Client(), "/")[0]


def test_text_that_imitates_a_marker_stays_text(site):
    planted = "\ue000" + "0" * 24 + ":csrf\ue001 and \ue000" + "0" * 24 + ":0\ue001"
    question = QuestionFactory(title="Planted markers", text=planted, text_html=f"<p>{planted}</p>")
    response = logged_in(site["bob"]).get(f"/q/{question.pk}/")
    assert response.status_code == 200 and f"<p>{planted}</p>" in response.content.decode()


def test_a_shell_holds_nothing_of_the_member_it_was_rendered_for(site):
    """Rendered on a member's request, the shell kept for every member has none of their name,
    e-mail, id in a link, session or token, whatever the templates read (user, request, perms)."""
    import json

    from django.core.cache import cache

    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from ask.core.cache_keys import shell_page
    from ask.core.caching import local_pages
    from ask.core.shells import shell_variant

    odd = UserFactory(display_name="Zqxjvw", email="zqxjvw@example.com", time_zone="Pacific/Chatham")
    services.vote_cast(user=odd, target=site["answer"], value=1)
    client = logged_in(odd)
    for url in ("/", "/tag/python/", f"/q/{site['question'].pk}/"):
        local_pages.clear()
        response = client.get(url)
        assert response["X-Cache"] == "shell miss" and "Zqxjvw" in response.content.decode()
        with timezone.override(ZoneInfo("Pacific/Chatham")):
            key = shell_page(url, shell_variant(response.wsgi_request, "member"))
        stored = json.dumps(cache.get(key)[1])
        for secret in ("Zqxjvw", "zqxjvw", f"/u/{odd.pk}/", client.cookies["sessionid"].value,
                       client.cookies["csrftoken"].value):
            assert secret not in stored, (url, secret)



def test_a_shell_another_release_kept_is_rendered_anew_not_filled(site):
    """A shell whose slots or states this code does not have (the cache from before a deploy) is a
    miss, never a 500 and never a page with a state missing."""
    from django.core.cache import cache

    from ask.core.cache_keys import shell_page
    from ask.core.caching import local_pages
    from ask.core.shells import Shell, shell_variant

    bob = logged_in(site["bob"])
    url = f"/q/{site['question'].pk}/"
    response = bob.get(url)
    key = shell_page(url, shell_variant(response.wsgi_request, "member"))  # the site's zone: Bob has none
    stored = cache.get(key)
    assert Shell.from_data({**stored[1], "slots": [["gone", None, None]]}) is None
    for slot in stored[1]["slots"]:  # Bob voted the question up: that state is no longer in the shell
        if slot[0] == "vote" and slot[1][0] == "question":
            del slot[2]["up"]
    cache.set(key, stored, 600)
    local_pages.clear()
    response = bob.get(url)
    assert response.status_code == 200 and response["X-Cache"] == "shell miss"
    assert 'class="vote-up active"' in response.content.decode()


def test_a_process_keeps_pages_and_shells_for_their_second_only(settings):
    import time

    from ask.core.caching import local_pages

    settings.ASK_PAGE_LOCAL_SECONDS = 0.2
    local_pages.clear()
    for n in range(50):
        local_pages.put(f"flood-{n}", "x" * 1000)
    time.sleep(0.25)
    local_pages.put("after", "y")
    assert local_pages.get("flood-0") is None and list(local_pages._pages) == ["after"], "the expired are dropped"
