"""In a real browser, on a phone and a desktop: a member picks a picture, sees it, and removes it."""
import pytest
from playwright.sync_api import expect

from tests.accounts.test_profile_settings import picture
from tests.ask.qa.test_editing_browser import _look
from tests.ask.qa.test_qa_browser import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_a_member_sets_and_removes_their_picture(live_server, page, settings, tmp_path, width):
    settings.MEDIA_ROOT = tmp_path
    UserFactory(email="ada@example.com", display_name="Ada")
    image = tmp_path / "me.png"
    image.write_bytes(picture(size=(300, 200), color="teal").getvalue())
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server.url, "ada@example.com")
    page.goto(live_server.url + "/settings/")
    expect(page.get_by_role("img", name="Your picture now")).to_have_count(0)
    page.get_by_label("Avatar").set_input_files(str(image))
    page.get_by_role("button", name="Save").click()
    page.goto(live_server.url + "/settings/")
    expect(page.get_by_role("img", name="Your picture now")).to_be_visible()
    expect(page.get_by_text("Currently")).to_have_count(0)
    _look(page, "settings-avatar", width)
    page.get_by_label("Remove it").check()
    page.get_by_role("button", name="Save").click()
    page.goto(live_server.url + "/settings/")
    expect(page.get_by_role("img", name="Your picture now")).to_have_count(0)
