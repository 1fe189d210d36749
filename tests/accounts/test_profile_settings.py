"""The settings page: display name and avatar; the e-mail address changes only through a confirmed
link (security findings 9 and 14)."""
import io
import mimetypes
import re

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image
from post_office.models import Email

from accounts.models import User
from ask.core.outbox import ONE_TIME_LINK
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGE_LINK = re.compile(r"http://testserver(/settings/email/confirm/[^/\s]+/)")


@pytest.fixture
def member(client):
    user = UserFactory(email="ada@example.com", display_name="Ada")
    client.force_login(user)
    return user


def picture(size=(8, 8), kind="PNG", name="me.png", mode="RGB", color="red") -> io.BytesIO:
    data = io.BytesIO()
    Image.new(mode, size, color).save(data, kind)
    data.seek(0)
    data.name = name
    return data


def stored(user: User) -> Image.Image:
    user.refresh_from_db()
    with default_storage.open(user.avatar.name) as f:
        image = Image.open(io.BytesIO(f.read()))
        image.load()
    return image


def test_display_name_and_avatar_are_saved(client, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = client.post("/settings/", {"display_name": " Renamed ", "avatar": picture()})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.display_name == "Renamed" and member.avatar.name.startswith("avatars/")
    page = client.get("/settings/").content.decode()
    assert f'<img class="avatar" src="/media/{member.avatar.name}" alt="Your picture now"' in page
    assert "Currently:" not in page and 'accept="image/png,image/jpeg,image/gif,image/webp"' in page
    client.post("/settings/", {"display_name": "Renamed", "avatar-clear": "on"})
    member.refresh_from_db()
    assert not member.avatar, "the Remove it box takes the picture off"


def test_a_file_that_is_no_picture_is_refused(client, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    not_an_image = io.BytesIO(b"plain text")
    not_an_image.name = "x.png"
    bad = client.post("/settings/", {"display_name": "Ada", "avatar": not_an_image})
    assert bad.status_code == 400 and "avatar" in bad.context["form"].errors
    member.refresh_from_db()
    assert not member.avatar


def test_a_huge_picture_is_refused_before_it_is_decoded(client, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bomb = picture(size=(12000, 12000), mode="1")  # a few KB on disk, 144 M pixels decoded
    assert len(bomb.getvalue()) < 100_000
    response = client.post("/settings/", {"display_name": "Ada", "avatar": bomb})
    assert response.status_code == 400
    assert "12000 × 12000 pixels" in str(response.context["form"].errors["avatar"])
    assert not list(tmp_path.rglob("*.*")), "nothing stored"


def test_an_avatar_is_re_encoded_under_a_random_name_with_the_right_extension(client, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.post("/settings/", {"display_name": "Ada", "avatar": picture(size=(1000, 600), name="cv.pdf")})
    image = stored(member)
    assert member.avatar.name.endswith(".jpg") and image.format == "JPEG" and image.size == (256, 154)
    assert "cv" not in member.avatar.name
    assert mimetypes.guess_type(member.avatar.name)[0] == "image/jpeg", "what /media/ serves it as"
    see_through = picture(name="t.webp", kind="WEBP", mode="RGBA", color=(255, 0, 0, 0))
    client.post("/settings/", {"display_name": "Ada", "avatar": see_through})
    transparent = stored(member)
    assert member.avatar.name.endswith(".png") and transparent.format == "PNG"


def test_a_replaced_or_removed_avatar_is_deleted(client, member, settings, tmp_path,
                                                 django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/settings/", {"display_name": "Ada", "avatar": picture()})
    member.refresh_from_db()
    first = tmp_path / member.avatar.name
    assert first.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/settings/", {"display_name": "Ada", "avatar": picture()})
    member.refresh_from_db()
    second = tmp_path / member.avatar.name
    assert second.exists() and not first.exists(), "the old picture is no longer public"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/settings/", {"display_name": "Ada", "avatar-clear": "on"})
    member.refresh_from_db()
    assert not member.avatar and not second.exists()


def test_the_settings_page_no_longer_changes_the_address(client, member):
    client.post("/settings/", {"display_name": "Ada", "email": "mallory@example.com"})
    member.refresh_from_db()
    assert member.email == "ada@example.com"


# --- The e-mail address --------------------------------------------------------------------------

def request_change(client, new="new@example.com", password="secret-pass-1"):
    return client.post("/settings/email/", {"new_email": new, "password": password})


def test_a_change_needs_the_current_password(client, member):
    response = request_change(client, password="wrong")
    assert response.status_code == 400 and "not your current password" in response.content.decode()
    assert not Email.objects.exists()
    member.refresh_from_db()
    assert member.email == "ada@example.com"


def test_the_new_address_confirms_the_old_is_told_and_other_sessions_end(client, member):
    elsewhere = Client()
    elsewhere.force_login(member)
    assert elsewhere.get("/settings/").status_code == 200
    assert request_change(client, new="NEW@example.com").status_code == 302
    (mail,) = Email.objects.all()
    assert mail.to == ["new@example.com"] and mail.backend_alias == ONE_TIME_LINK
    member.refresh_from_db()
    assert member.email == "ada@example.com", "nothing changes before the new address confirms"
    link = CHANGE_LINK.search(mail.message).group(1)
    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == "/settings/email/confirm/", "token out of the URL"
    page = client.get("/settings/email/confirm/")
    assert page.status_code == 200 and "new@example.com" in page.content.decode()
    assert client.post("/settings/email/confirm/").status_code == 302
    member.refresh_from_db()
    assert member.email == "new@example.com"
    notice = Email.objects.get(to=["ada@example.com"])
    assert "changed from ada@example.com to new@example.com" in notice.message
    assert client.get("/settings/").status_code == 200, "the browser that confirmed stays logged in"
    assert elsewhere.get("/settings/").status_code == 302, "every other session is logged out"
    again = Client()
    again.force_login(member)
    again.get(link)
    assert again.get("/settings/email/confirm/").status_code == 410, "a link works once"


def test_a_link_opened_by_another_member_does_nothing(client, member):
    request_change(client)
    link = CHANGE_LINK.search(Email.objects.get().message).group(1)
    other = Client()
    other.force_login(UserFactory())
    other.get(link)
    assert other.post("/settings/email/confirm/").status_code == 403
    member.refresh_from_db()
    assert member.email == "ada@example.com"


def test_a_link_needs_a_log_in_and_keeps_its_token_out_of_the_log_in_address(member):
    asking = Client()
    asking.force_login(member)
    request_change(asking)
    link = CHANGE_LINK.search(Email.objects.get().message).group(1)
    anonymous = Client()
    anonymous.get(link)
    to_login = anonymous.get("/settings/email/confirm/")
    assert to_login.status_code == 302 and to_login["Location"].startswith("/accounts/login/")
    assert link.split("/")[-2] not in to_login["Location"]


@pytest.mark.parametrize("case", ["expired", "tampered", "taken", "address_taken_on_request"])
def test_links_that_cannot_change_the_address(client, member, settings, case):
    if case == "address_taken_on_request":
        UserFactory(email="new@example.com")
        response = request_change(client, new="New@Example.com")
        assert response.status_code == 400 and "exists already" in response.content.decode()
        return
    request_change(client)
    link = CHANGE_LINK.search(Email.objects.get().message).group(1)
    if case == "expired":
        settings.ACCOUNTS_EMAIL_CHANGE_HOURS = 0
    elif case == "tampered":
        link = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    elif case == "taken":
        UserFactory(email="new@example.com")
    client.get(link)
    response = client.post("/settings/email/confirm/")
    assert response.status_code == {"expired": 410, "tampered": 400, "taken": 409}[case]
    member.refresh_from_db()
    assert member.email == "ada@example.com"


def test_address_change_tries_are_rate_limited(client, member, settings):
    settings.ACCOUNTS_EMAIL_CHANGE_RATE = "3/h"
    codes = [request_change(client, password=f"guess {n}").status_code for n in range(4)]
    assert codes == [400, 400, 400, 429], "password guesses through this form are limited too"


@pytest.mark.django_db(transaction=True)
def test_an_avatar_whose_save_times_out_leaves_no_file_behind(settings, tmp_path):
    """The file was written before the row; a lock timeout rolled the row back and left the file public."""
    import psycopg2
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import OperationalError, connection

    from accounts.services import profile_update

    if connection.vendor != "postgresql":
        pytest.skip("lock_timeout is PostgreSQL's")
    settings.MEDIA_ROOT = tmp_path
    user = UserFactory(email="ada@example.com", display_name="Ada")
    holder = psycopg2.connect(**{k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"})
    holder.cursor().execute("SELECT id FROM accounts_user WHERE id = %s FOR UPDATE", [user.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    try:
        with pytest.raises(OperationalError):
            profile_update(user=user, display_name="Ada", avatar=SimpleUploadedFile("me.png", picture().read()))
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
