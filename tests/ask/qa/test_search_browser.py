"""In a real browser, on a phone and a desktop: search results with a count and excerpts, and a
suggestion picked while typing opens its question."""
import pytest
from playwright.sync_api import expect

from tests.ask.qa.test_editing_browser import _look
from tests.factories import QuestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_search_shows_a_count_and_highlighted_excerpts(live_server, page, width):
    QuestionFactory(title="Why is my order list slow?", text="With **many** orders the list takes seconds to load.")
    QuestionFactory(title="Slow cooker recipes", text="A slow cooker needs eight hours.")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/")
    page.get_by_role("combobox", name="Search questions").fill("slow list")
    page.keyboard.press("Enter")
    expect(page.locator(".result-count")).to_have_text("1 question found")
    expect(page.locator(".search-result h2 mark")).to_have_text(["list", "slow"])
    _look(page, "search", width)


def test_picking_a_suggestion_opens_its_question(live_server, page):
    question = QuestionFactory(title="Parsing CSV files quickly")
    page.goto(live_server.url + "/")
    box = page.get_by_role("combobox", name="Search questions")
    box.press_sequentially("pars", delay=30)
    expect(page.locator("#search-suggestions option")).to_have_count(1)
    # What choosing an option of the list does: the box takes its value and fires input.
    box.evaluate("(box) => { box.value = 'Parsing CSV files quickly'; box.dispatchEvent(new Event('input')); }")
    expect(page).to_have_url(f"{live_server.url}/q/{question.pk}/")
