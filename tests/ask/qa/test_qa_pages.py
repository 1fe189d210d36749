"""The Q&A pages: status, content, bad input, safety, and a constant number of queries."""
import re

import pytest
from django.test import Client

from ask.qa.models import Answer, Question
from tests.factories import AnswerFactory, QuestionFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client):
    user = UserFactory(display_name="Member")
    client.force_login(user)
    client.user = user
    return client


def test_the_list_pages_show_20_questions_a_page_newest_or_best_first(client):
    questions = [QuestionFactory(rating=n % 7) for n in range(45)]
    home = client.get("/")
    assert home.status_code == 200 and len(home.context["page"].object_list) == 20
    assert home.context["page"].object_list[0] == questions[-1]
    third_page = client.get("/?page=3").context["page"].object_list
    assert list(third_page) == [questions[4], questions[3], questions[2], questions[1], questions[0]]
    hot = client.get("/hot/").context["page"].object_list
    assert [q.rating for q in hot] == sorted((q.rating for q in hot), reverse=True) and hot[0].rating == 6


@pytest.mark.parametrize("page", ["0", "-1", "99999", "abc", "1.5", "", "%00"])
def test_any_page_number_gives_a_page_or_a_404_never_a_500(client, page):
    QuestionFactory()
    for url in ("/", "/hot/", "/tag/python/", f"/q/{Question.objects.get().pk}/", "/search/"):
        if url.startswith("/tag/"):
            TagFactory(name="python").questions.add(Question.objects.get())
        assert client.get(url, {"page": page}).status_code in (200, 404), (url, page)
    assert client.get("/", {"page": "99999"}).status_code == 404
    assert client.get("/", {"page": ""}).status_code == 200


def test_missing_questions_tags_and_profiles_are_404s(client):
    for url in ("/q/999999/", "/tag/nosuchtag/", "/u/999999/", "/q/abc/"):
        assert client.get(url).status_code == 404, url


def test_the_question_page_shows_the_accepted_answer_first_then_by_rating_then_oldest(client):
    question = QuestionFactory()
    old_good = AnswerFactory(question=question, rating=5)
    new_good = AnswerFactory(question=question, rating=5)
    accepted = AnswerFactory(question=question, rating=-1, is_accepted=True)
    best = AnswerFactory(question=question, rating=9)
    shown = client.get(f"/q/{question.pk}/").context["page"].object_list
    assert list(shown) == [accepted, best, old_good, new_good]


def test_answers_are_paged_30_at_a_time(client):
    question = QuestionFactory()
    AnswerFactory.create_batch(31, question=question)
    assert len(client.get(f"/q/{question.pk}/").context["page"].object_list) == 30
    assert len(client.get(f"/q/{question.pk}/?page=2").context["page"].object_list) == 1


def test_asking_needs_a_login_and_validates_title_text_and_tags(member_client):
    assert Client().get("/ask/").status_code == 302
    bad = member_client.post("/ask/", {"title": "short", "text": "too short", "tags": "a b c d"})
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"title", "text", "tags"}
    assert "At most 3 tags" in str(bad.context["form"].errors["tags"])
    bad_tag = member_client.post("/ask/", {"title": "x" * 20, "text": "y" * 30, "tags": "<b>"})
    assert "not a valid tag" in str(bad_tag.content)
    response = member_client.post("/ask/", {"title": "How do I sort a list?", "text": "I have **a list** of tuples.",
                                            "tags": "Python, lists"})
    question = Question.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/q/{question.pk}/"
    assert sorted(question.tags.values_list("name", flat=True)) == ["lists", "python"]
    assert question.author == member_client.user


def test_answering_from_the_question_page(member_client):
    question = QuestionFactory()
    assert member_client.post(f"/q/{question.pk}/answer/", {"text": "short"}).status_code == 400
    response = member_client.post(f"/q/{question.pk}/answer/", {"text": "Use sorted() with key=len."})
    answer = Answer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/q/{question.pk}/#answer-{answer.pk}"
    assert Client().post(f"/q/{question.pk}/answer/", {"text": "Anonymous answer here"}).status_code == 302
    assert Answer.objects.count() == 1


def test_voting_is_post_only_needs_login_and_answers_json(member_client):
    question = QuestionFactory()
    url = f"/vote/question/{question.pk}/"
    assert member_client.get(url).status_code == 405
    assert Client().post(url, {"value": "1"}, HTTP_ACCEPT="application/json").status_code == 401
    response = member_client.post(url, {"value": "1"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"rating": 1, "vote": 1}
    assert member_client.post(url, {"value": "5"}, HTTP_ACCEPT="application/json").status_code == 400
    assert member_client.post("/vote/question/999999/", {"value": "1"}).status_code == 404
    own = QuestionFactory(author=member_client.user)
    assert member_client.post(f"/vote/question/{own.pk}/", {"value": "1"},
                              HTTP_ACCEPT="application/json").status_code == 403


def test_voting_is_csrf_protected():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    question = QuestionFactory()
    assert client.post(f"/vote/question/{question.pk}/", {"value": "1"}).status_code == 403
    page = client.get(f"/q/{question.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    ok = client.post(f"/vote/question/{question.pk}/", {"value": "1"}, HTTP_ACCEPT="application/json",
                     HTTP_X_CSRFTOKEN=str(token))
    assert ok.status_code == 200


def test_a_vote_form_without_javascript_redirects_back(member_client):
    answer = AnswerFactory()
    response = member_client.post(f"/vote/answer/{answer.pk}/", {"value": "-1"})
    assert response.status_code == 302 and response["Location"] == f"/q/{answer.question_id}/"
    answer.refresh_from_db()
    assert answer.rating == -1


def test_only_the_questions_author_can_accept(member_client):
    answer = AnswerFactory(question=QuestionFactory(author=member_client.user))
    other = AnswerFactory()
    assert member_client.post(f"/accept/{other.pk}/", HTTP_ACCEPT="application/json").status_code == 403
    accepted = member_client.post(f"/accept/{answer.pk}/", HTTP_ACCEPT="application/json")
    assert accepted.json() == {"accepted": True, "answer": answer.pk}
    assert member_client.get(f"/accept/{answer.pk}/").status_code == 405


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_no_stored_xss_through_titles_texts_tags_or_display_names(client):
    author = UserFactory(display_name=XSS[:40])
    from ask.qa.services import answer_create, question_create

    question = question_create(author=author, title=XSS, text=XSS + "\n\n[link](javascript:alert(1))",
                               tag_names=["safe"])
    answer_create(author=author, question=question, text=XSS, question_url="x")
    for url in ("/", f"/q/{question.pk}/", f"/u/{author.pk}/", "/search/?q=alert", f"/search/?q={XSS}"):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), url
        assert "javascript:alert" not in html.replace("(javascript:alert(1))", ""), url


def test_profile_shows_questions_answers_and_rating(client):
    member = UserFactory(display_name="Grace")
    QuestionFactory(author=member, rating=4, title="Grace asks about sorting things")
    AnswerFactory(author=member, rating=3)
    html = client.get(f"/u/{member.pk}/").content.decode()
    assert "Grace asks about sorting things" in html and "Rating <strong>7</strong>" in html


def test_search_page_and_suggestions(client):
    QuestionFactory(title="Parsing CSV files quickly", text="with the csv module")
    html = client.get("/search/?q=csv").content.decode()
    assert "Parsing <mark>CSV</mark> files quickly" in html and "with the <mark>csv</mark> module" in html
    assert "1 question found" in html
    suggested = client.get("/search/suggest/?q=pars").json()
    pk = Question.objects.get().pk
    assert suggested == {"suggestions": [{"id": pk, "title": "Parsing CSV files quickly", "url": f"/q/{pk}/"}]}
    assert "No question matches" in client.get("/search/?q=zebra").content.decode()


@pytest.mark.parametrize("logged_in", [False, True])
def test_every_page_runs_the_same_number_of_queries_whatever_the_data(client, django_assert_max_num_queries, logged_in,
                                                                       settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # measure uncached
    tag = TagFactory(name="python")
    user = UserFactory()
    if logged_in:
        client.force_login(user)

    def build(n):
        question = QuestionFactory(tags=[tag, TagFactory()])
        for _ in range(n):
            answer = AnswerFactory(question=question)
            AnswerFactory.create(question=QuestionFactory(author=answer.author, tags=[tag]))
            AnswerFactory(author=question.author)  # the profile lists these
            QuestionFactory(author=question.author, title="How to sort things")
        return question

    def queries(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.get(url)  # a list's total is counted once in a while (core.ListTotal): the steady state
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        return len(captured)

    small = build(2)
    urls = lambda q: ["/", "/hot/", "/tag/python/", f"/q/{q.pk}/", f"/u/{q.author_id}/",  # noqa: E731
                      "/search/?q=sort"]
    counts_small = [queries(u) for u in urls(small)]
    big = build(25)
    counts_big = [queries(u) for u in urls(big)]
    assert counts_small == counts_big
    assert max(counts_big) <= 9


def test_avatars_show_beside_posts_in_lists_and_on_the_question_page(client):
    author = UserFactory(display_name="Pictured")
    author.avatar.name = "avatars/2026/12/pictured.png"
    author.save(update_fields=["avatar"])
    question = QuestionFactory(author=author)
    AnswerFactory(question=question, author=author)
    image = '<img class="avatar small" src="/media/avatars/2026/12/pictured.png"'
    assert image in client.get("/").content.decode()
    assert client.get(f"/q/{question.pk}/").content.decode().count(image) == 2


def test_a_card_shows_the_start_of_its_question_as_plain_text(client):
    QuestionFactory(text="I have **a list** of tuples and `sorted()` gives the wrong order. " + "More words. " * 60)
    html = client.get("/").content.decode()
    assert '<p class="excerpt">I have a list of tuples and sorted() gives the wrong order. More words.' in html
    excerpt = html.split('<p class="excerpt">')[1].split("</p>")[0]
    assert len(excerpt) <= 161 and excerpt.endswith("…")


def test_the_preview_renders_as_stored_for_members_only_and_tags_are_suggested_by_use(member_client):
    preview = member_client.post("/preview/", {"text": "**bold** <script>x</script>"})
    assert preview.json() == {"html": "<p><strong>bold</strong> &lt;script&gt;x&lt;/script&gt;</p>\n"}
    assert member_client.post("/preview/", {"text": "x" * 30_001}).status_code == 400
    assert Client().post("/preview/", {"text": "hi"}).status_code in (302, 403)
    assert member_client.get("/preview/").status_code == 405
    python, pytest_tag = TagFactory(name="python"), TagFactory(name="pytest")
    TagFactory(name="rust")
    QuestionFactory(tags=[pytest_tag])
    QuestionFactory(tags=[pytest_tag, python])
    QuestionFactory(tags=[pytest_tag])
    assert Client().get("/tags/suggest/?q=py").json() == {"tags": ["pytest", "python"]}
    assert Client().get("/tags/suggest/?q=").json() == {"tags": []}
