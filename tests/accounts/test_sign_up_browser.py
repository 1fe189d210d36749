"""In a real browser: sign up, open the mail the file backend wrote, follow the link, land logged in."""
import re
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_then_follow_the_mailed_link_and_land_logged_in(live_server, page, settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    files = "ask.core.mail_files.PrivateFileEmailBackend"
    settings.POST_OFFICE = {**settings.POST_OFFICE, "BACKENDS": {"default": files, "one_time_link": files}}
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("E-mail address").fill("grace@example.com")
    page.get_by_label("Display name").fill("Grace")
    page.fill("input[name=password1]", "correct horse battery")
    page.fill("input[name=password2]", "correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    assert page.locator("h1").inner_text() == "Check your e-mail"
    assert "grace@example.com" in page.content()
    assert f"writes every mail as a file into {tmp_path / 'mail'}" in page.locator("main").inner_text()

    call_command("send_queued_mail", stdout=StringIO())
    (mail_file,) = (tmp_path / "mail").iterdir()
    text = mail_file.read_text().replace("=\n", "")
    link = re.search(r"http://\S+/accounts/activate/[A-Za-z0-9_-]+/", text).group(0)

    page.goto(link)
    assert "/activate/" + link.split("/")[-2] not in page.url, "the key left the address bar"
    page.get_by_role("button", name="Activate my account").click()
    assert page.locator(".user-name").inner_text() == "Grace"
    assert "your account is active" in page.locator(".messages").inner_text()
