"""In a real browser, on a phone and a desktop: an author edits a post and reads its history."""
import os

import pytest
from playwright.sync_api import expect

from ask.qa.services import answer_create, question_create
from tests.ask.qa.test_qa_browser import log_in
from tests.ask.qa.test_qa_screens_browser import WIDE_POST, page_is_no_wider_than_the_screen
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("ASK_SCREENSHOTS")  # a folder: each page is saved there to be looked at


def _look(page, name: str, width: int) -> None:
    assert page_is_no_wider_than_the_screen(page), (name, width)
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}.png", full_page=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_an_author_edits_an_answer_and_anyone_reads_its_history(live_server, page, width):
    asker = UserFactory(email="asker@example.com", display_name="Asker")
    helper = UserFactory(email="helper@example.com", display_name="Helper")
    question = question_create(author=asker, title="Why is my list not sorted?", text=WIDE_POST, tag_names=["python"])
    answer_create(author=helper, question=question, text="Call **sorted()** on it.", question_url="/")
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, "helper@example.com")
    page.goto(f"{live_server.url}/q/{question.pk}/")
    question_controls = page.locator(".post.question .post-controls")
    expect(question_controls.get_by_role("link", name="Edit")).to_have_count(0)  # not hers: no Edit, no Delete
    expect(question_controls.get_by_role("link", name="Delete")).to_have_count(0)
    page.locator(".post.answer .post-controls").get_by_role("link", name="Edit").click()
    _look(page, "edit-answer", width)
    page.get_by_label("Your answer").fill("Call **sorted()** on it, with key=len.\n\n" + WIDE_POST)
    page.get_by_role("button", name="Save your answer").click()
    expect(page.locator(".message.success")).to_have_text("Your answer was saved.")
    expect(page.locator(".post.answer .text")).to_contain_text("with key=len")
    _look(page, "edited-question", width)
    page.locator(".post.answer .post-controls").get_by_role("link", name="edited").click()
    expect(page.get_by_role("heading", name="As first posted")).to_be_visible()
    expect(page.get_by_role("heading", name="Edit 1")).to_be_visible()
    _look(page, "history", width)
    page.get_by_role("link", name="Back to the answer").click()
    page.locator(".post.answer .post-controls").get_by_role("link", name="Delete").click()
    _look(page, "delete-answer", width)
    page.get_by_role("button", name="Delete your answer").click()
    expect(page.locator(".message.success")).to_have_text("Your answer was deleted.")
    expect(page.get_by_role("heading", name="0 answers")).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_asking_with_a_markdown_preview_and_tag_suggestions(live_server, page, width):
    from tests.factories import QuestionFactory, TagFactory

    UserFactory(email="asker@example.com", display_name="Asker")
    QuestionFactory(tags=[TagFactory(name="postgresql")])
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server.url, "asker@example.com")
    page.goto(live_server.url + "/ask/")
    page.get_by_label("Title").fill("How do I list the tables of a database?")
    page.get_by_label("Text").fill("Is there a **command** for it?\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".text.preview strong")).to_have_text("command")
    expect(page.locator(".text.preview td").first).to_have_text("1")
    page.get_by_label("Tags").press_sequentially("sql post", delay=20)
    expect(page.locator("#id_tags-suggestions option")).to_have_attribute("value", "sql postgresql")
    _look(page, "ask-preview", width)
    page.get_by_label("Tags").fill("sql postgresql")
    page.get_by_role("button", name="Post your question").click()
    expect(page.locator("h1")).to_have_text("How do I list the tables of a database?")
