"""In a real browser, on a phone and a desktop: a member flags an answer, a moderator hides it."""
import pytest
from playwright.sync_api import expect

from ask.qa.services import answer_create, question_create
from tests.ask.qa.test_editing_browser import _look
from tests.ask.qa.test_qa_browser import log_in, log_out
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_a_member_flags_an_answer_and_a_moderator_hides_it_from_the_queue(live_server, page, width):
    asker = UserFactory(email="asker@example.com", display_name="Asker")
    UserFactory(email="mod@example.com", display_name="Moderator", is_staff=True)
    question = question_create(author=asker, title="How do I read a CSV file?", text="With Python.",
                               tag_names=["python"])
    answer_create(author=UserFactory(display_name="Spammer"), question=question,
                  text="Buy cheap watches at example.com today", question_url="/")
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, "asker@example.com")
    page.goto(f"{live_server.url}/q/{question.pk}/")
    expect(page.get_by_role("link", name="Moderation")).to_have_count(0)
    flag = page.locator(".post.answer details.flag")
    flag.locator("summary").click()
    flag.get_by_label("Spam").check()
    _look(page, "flag-open", width)
    flag.get_by_role("button", name="Flag for moderators").click()
    expect(page.locator(".message.success")).to_contain_text("a moderator will look at it")
    log_out(page)
    log_in(page, live_server.url, "mod@example.com")
    page.get_by_role("link", name="Moderation").click()
    item = page.locator(".moderation-item").first
    expect(item).to_contain_text("1 flag: Spam 1")
    _look(page, "moderation-queue", width)
    item.get_by_role("button", name="Hide", exact=True).click()
    expect(page.locator(".message.success")).to_have_text("The answer is hidden.")
    expect(page.get_by_text("No flagged answers.")).to_be_visible()
    _look(page, "moderation-hidden", width)
    page.goto(f"{live_server.url}/q/{question.pk}/")
    expect(page.get_by_text("Buy cheap watches")).to_have_count(0)
    expect(page.get_by_role("heading", name="0 answers")).to_be_visible()
