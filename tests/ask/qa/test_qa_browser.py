"""In a real browser: one user asks, a second answers and votes, the author accepts."""
import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "secret-pass-1")
    page.click("button[type=submit]")


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()


def test_ask_answer_vote_and_accept(live_server, browser):
    UserFactory(email="asker@example.com", display_name="Asker")
    UserFactory(email="helper@example.com", display_name="Helper")
    base = live_server.url

    contexts = [browser.new_context(), browser.new_context()]
    try:
        walk_through(base, *(context.new_page() for context in contexts))
    finally:
        for context in contexts:
            context.close()


def walk_through(base: str, asker, helper) -> None:
    log_in(asker, base, "asker@example.com")
    asker.get_by_role("link", name="Ask", exact=True).click()
    asker.get_by_label("Title").fill("How do I reverse a list in Python?")
    asker.get_by_label("Text").fill("I have `[1, 2, 3]` and want **[3, 2, 1]**.")
    asker.get_by_label("Tags").fill("python lists")
    asker.get_by_role("button", name="Post your question").click()
    assert asker.locator("h1").inner_text() == "How do I reverse a list in Python?"
    assert asker.locator(".post.question strong").inner_text() == "[3, 2, 1]"
    question_url = asker.url

    log_in(helper, base, "helper@example.com")
    helper.goto(question_url)
    helper.get_by_label("Your answer").fill("Use `reversed(items)` or `items[::-1]`.")
    helper.get_by_role("button", name="Post your answer").click()
    assert "Your answer was posted." in helper.locator(".messages").inner_text()
    helper.locator(".post.question .vote-up").click()  # by script: no page load
    # expect() polls without eval: a string predicate is refused by the page's CSP (no 'unsafe-eval')
    expect(helper.locator(".post.question .rating")).to_have_text("1")
    assert "active" in helper.locator(".post.question .vote-up").get_attribute("class")

    asker.goto(question_url)
    assert asker.locator(".post.question .rating").inner_text() == "1"
    asker.get_by_role("button", name="Mark as correct").click()
    asker.wait_for_selector(".post.answer.accepted")
    assert "Accepted answer" in asker.locator(".post.answer").inner_text()

    helper.reload()
    assert helper.locator(".post.answer.accepted code").first.inner_text() == "reversed(items)"
    assert helper.locator("button", has_text="Mark as correct").count() == 0, "only the author may accept"
