"""demo_data (scripts/run's demo): a random password shown once, never over a user, never into a live
database."""
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from ask.demo import services
from ask.jobs.models import JobRun
from ask.qa.models import Question
from orders.models import Order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("demo_data", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_empty_database_gets_a_demo_superuser_with_a_random_password_kept_private(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = run("--first-start")
    demo = User.objects.get(email="demo@example.com")
    assert demo.is_superuser and demo.is_active and not demo.check_password("demo-password")
    saved = (tmp_path / "demo-password").read_text().split()
    assert saved[0] == "demo@example.com" and saved[1] in out, "printed once on the terminal"
    assert demo.check_password(saved[1])
    assert stat.S_IMODE((tmp_path / "demo-password").stat().st_mode) == 0o600
    assert saved[1] not in JobRun.objects.get(job="demo_data").summary, "the jobs table never holds it"
    assert Question.objects.count() == 300 and Order.objects.count() == 300


def test_a_database_with_users_is_left_alone_on_start_and_refused_when_asked(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    owner = UserFactory(email="owner@example.com", is_superuser=True, is_staff=True)
    hash_before = owner.password
    assert "no demo data loaded" in run("--first-start")
    with pytest.raises(CommandError, match="has users already: demo data goes only into the embedded"):
        run()
    owner.refresh_from_db()
    assert owner.password == hash_before and owner.email == "owner@example.com"
    assert not User.objects.filter(email="demo@example.com").exists()
    assert not Question.objects.exists() and not (tmp_path / "demo-password").exists()


def test_the_embedded_database_keeps_an_existing_demo_user_as_it_is(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(services, "database_is_embedded", lambda: True)
    demo = UserFactory(email="demo@example.com", display_name="demo")
    hash_before = demo.password
    out = run()
    demo.refresh_from_db()
    assert demo.password == hash_before and "password is unchanged" in out
    assert not (tmp_path / "demo-password").exists()
    assert User.objects.filter(email__iexact="demo@example.com").count() == 1


def test_the_demo_comes_with_statistics_for_every_day_it_covers(settings, tmp_path):
    """Issue finding: after the first start every chart was flat at zero (calc_stats computes
    yesterday and today only)."""
    from ask.stats.models import OrdersDay, SiteDay

    settings.VAR_DIR = tmp_path
    run("--first-start")
    days_with_questions = SiteDay.objects.filter(questions__gt=0).count()
    assert days_with_questions > 100, f"a year of questions, {days_with_questions} days with some"
    placed = OrdersDay.objects.filter(restaurant=None, placed__gt=0).count()
    assert placed >= 25, f"a month of orders, {placed} days with some"
    assert JobRun.objects.get(job="calc_stats").status == "ok"
