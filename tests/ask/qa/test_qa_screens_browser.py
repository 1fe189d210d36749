"""Q&A pages on a phone and a desktop: wide posts scroll inside their own box, never the page."""
import os

import pytest

from ask.qa.services import answer_create, question_create
from tests.ask.qa.test_qa_browser import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_CODE = "```\n" + "result = compute(" + ", ".join(f"argument_{n}" for n in range(40)) + ")\n```"
WIDE_TABLE = "| " + " | ".join(f"column{n}" for n in range(16)) + " |\n|" + "---|" * 16 + "\n| " + \
    " | ".join(f"value{n}" for n in range(16)) + " |"
WIDE_POST = f"Why does this fail?\n\n{LONG_CODE}\n\n{WIDE_TABLE}"


@pytest.fixture
def wide_question():
    asker = UserFactory(email="asker@example.com", display_name="Asker")
    helper = UserFactory(email="helper@example.com", display_name="Helper")
    question = question_create(author=asker, title="A wide traceback", text=WIDE_POST, tag_names=["python"])
    answer_create(author=helper, question=question, text=WIDE_POST, question_url="/")
    return question


def page_is_no_wider_than_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [390, 1280])
def test_a_post_with_a_long_code_line_and_a_wide_table_keeps_the_page_on_the_screen(
        live_server, page, wide_question, width):
    page.set_viewport_size({"width": width, "height": 800})
    for path in (f"/q/{wide_question.pk}/", "/", "/search/?q=traceback", f"/u/{wide_question.author_id}/"):
        page.goto(live_server.url + path)
        assert page_is_no_wider_than_the_screen(page), (width, path)
    page.goto(live_server.url + f"/q/{wide_question.pk}/")
    for selector in (".post.question pre", ".post.question table", ".post.answer pre"):
        box = page.locator(selector)
        # The box itself scrolls sideways: what does not fit is reachable, not cut off.
        assert box.evaluate("e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX == 'auto'"), \
            (width, selector)
    cell_border = page.locator(".post.question td").first.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert cell_border == "solid"


def test_the_author_sees_their_own_posts_vote_controls_as_not_for_them(live_server, page, wide_question):
    log_in(page, live_server.url, "asker@example.com")
    page.goto(live_server.url + f"/q/{wide_question.pk}/")
    own = page.locator(".post.question .vote")
    assert own.get_by_role("button", name="Vote up").is_disabled()
    assert own.get_by_role("button", name="Vote down").is_disabled()
    assert "You can't vote on your own post" in own.get_attribute("title")
    assert own.locator("a").count() == 0, "no link to the log-in page for a member already logged in"
    others = page.locator(".post.answer .vote")
    assert others.get_by_role("button", name="Vote up").is_enabled()


def test_dates_read_as_how_long_ago_with_the_exact_time_on_hover(live_server, page):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import QuestionFactory

    QuestionFactory(title="Asked three hours ago", created_at=timezone.now() - timedelta(hours=3, minutes=5))
    QuestionFactory(title="Asked long ago", created_at=timezone.now() - timedelta(days=400))
    page.goto(live_server.url + "/")
    recent = page.locator(".question-card", has_text="Asked three hours ago").locator("time")
    old = page.locator(".question-card", has_text="Asked long ago").locator("time")
    assert recent.inner_text() == "3 hours ago"
    assert str(timezone.now().year) in recent.get_attribute("title")
    assert old.inner_text().count(",") == 1, "older than a month: the date itself"


def test_a_staff_members_header_fits_a_phone(live_server, page):
    UserFactory(email="staff@example.com", display_name="Staff", is_staff=True)
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, live_server.url, "staff@example.com")
    page.goto(live_server.url + "/")
    assert page_is_no_wider_than_the_screen(page)
    assert page.locator(".site-nav a").count() == 10
    if os.environ.get("ASK_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['ASK_SCREENSHOTS']}/header-staff-390.png")


@pytest.mark.parametrize("width", [390, 1280])
def test_numbered_pages_and_card_excerpts_fit_the_screen(live_server, page, width):
    import os

    from tests.factories import QuestionFactory

    for n in range(205):
        QuestionFactory(title=f"Question number {n} about sorting", text="A text that starts the card. " * 10)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/?page=5")
    numbers = page.locator(".page-numbers li").all_inner_texts()
    assert numbers == ["1", "…", "3", "4", "5", "6", "7", "…", "11"]
    assert page_is_no_wider_than_the_screen(page)
    if os.environ.get("ASK_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['ASK_SCREENSHOTS']}/pages-{width}.png", full_page=True)
    page.get_by_role("link", name="11", exact=True).click()
    assert page.locator(".question-card").count() == 5
