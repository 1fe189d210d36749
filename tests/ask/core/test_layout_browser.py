"""The layout in a real browser: header, search, login state, columns on wide and narrow screens."""
import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_layout_has_header_search_main_column_and_styles(live_server, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/")
    assert page.title() == "New questions · ask"
    assert page.locator(".site-header .brand").inner_text() == "ask"
    assert page.get_by_role("combobox", name="Search questions").is_visible()
    assert page.get_by_role("link", name="Log in").is_visible()
    # The stylesheet is served and applied: the header has its white background.
    assert page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"


def test_on_a_phone_the_page_is_one_column_without_horizontal_scrolling(live_server, page):
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(live_server.url + "/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    columns = page.eval_on_selector(".page", "e => getComputedStyle(e).gridTemplateColumns")
    assert len(columns.split()) == 1


def test_logging_in_shows_the_users_name_and_logging_out_returns_to_anonymous(live_server, page):
    UserFactory(email="ada@example.com", display_name="Ada")
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "ada@example.com")
    page.fill("input[name=password]", "secret-pass-1")
    page.click("button[type=submit]")
    assert page.locator(".user-name").inner_text() == "Ada"
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_a_missing_page_shows_the_friendly_404_in_the_layout(live_server, page):
    response = page.goto(live_server.url + "/no/such/page")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
