"""In a real browser, on a phone and a desktop: a member follows a tag and chooses a weekly digest."""
import pytest
from playwright.sync_api import expect

from ask.qa.models import Digest
from tests.ask.qa.test_editing_browser import _look
from tests.ask.qa.test_qa_browser import log_in
from tests.factories import QuestionFactory, TagFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_a_member_follows_a_tag_and_chooses_a_weekly_digest(live_server, page, width):
    member = UserFactory(email="reader@example.com", display_name="Reader")
    QuestionFactory(title="Sorting dicts by value", tags=[TagFactory(name="python")])
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, "reader@example.com")
    page.goto(f"{live_server.url}/tag/python/")
    page.get_by_role("button", name="Follow “python”").click()
    expect(page.locator(".message.success")).to_have_text("You follow “python”.")
    _look(page, "tag-followed", width)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Digest and following").click()
    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message.success")).to_have_text("Your digest settings are saved.")
    expect(page.get_by_label("Weekly")).to_be_checked()
    _look(page, "digest-settings", width)
    assert Digest.objects.get(user=member).frequency == "weekly"
