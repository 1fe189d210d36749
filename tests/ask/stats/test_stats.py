"""Daily statistics: hand-counted figures, day boundaries in the site's time zone, reruns, access."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client

from ask.stats.compute import stats_calculate
from ask.stats.models import OrdersDay, SiteDay
from orders.models import Order, OrderEvent, OrderItem
from tests.factories import AnswerFactory, QuestionFactory, UserFactory
from tests.orders.factories import DishFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def delivered_order(*, created, delivered, late=0, dishes, total):
    order = Order.objects.create(customer=UserFactory(), eta=delivered - timedelta(minutes=late), status="delivered",
                                 total=Decimal(total), address="x", created_at=created, delivered_at=delivered,
                                 delayed_minutes=late)
    for dish in dishes:
        OrderItem.objects.create(order=order, dish=dish, quantity=1, price=dish.price)
    return order


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    from django.utils import timezone

    timezone.activate(BERLIN)
    yield
    timezone.deactivate()


def test_site_figures_match_a_hand_count_with_the_day_boundary_at_local_midnight(berlin):
    ada = UserFactory(date_joined=at(10, 23, 59), activated_at=at(11, 0, 1))  # joined the 10th, activated the 11th
    question = QuestionFactory(author=ada, created_at=at(11, 0, 30))  # 23:30 UTC on the 10th: still the 11th here
    AnswerFactory(question=question, author=ada, created_at=at(11, 12))
    AnswerFactory(question=question, created_at=at(11, 23, 59))
    stats_calculate(since=date(2026, 11, 10), until=date(2026, 11, 12))
    tenth, eleventh, twelfth = (SiteDay.objects.get(day=date(2026, 11, d)) for d in (10, 11, 12))
    assert (tenth.new_users, tenth.activations, tenth.questions) == (1 + 0, 0, 0)
    assert (eleventh.activations, eleventh.questions, eleventh.answers, eleventh.active_users) == (1, 1, 2, 2)
    twelfth_counts = (twelfth.questions, twelfth.answers, twelfth.votes, twelfth.active_users)
    assert twelfth_counts == (0, 0, 0, 0), "a day with nothing"


def test_order_figures_per_day_and_per_restaurant(berlin):
    pizza, sushi = DishFactory(price=Decimal("10.00")), DishFactory(price=Decimal("4.00"))
    delivered_order(created=at(11, 11), delivered=at(11, 12), dishes=[pizza, sushi], total="14.00")  # 60 min
    delivered_order(created=at(11, 10), delivered=at(11, 12, 30), late=15, dishes=[pizza], total="10.00")  # 150 min
    cancelled = Order.objects.create(customer=UserFactory(), eta=at(11, 20), total=Decimal("4.00"), address="x",
                                     created_at=at(11, 9), status="cancelled")
    OrderItem.objects.create(order=cancelled, dish=sushi, quantity=1, price=sushi.price)
    OrderEvent.objects.create(order=cancelled, from_status="not_started", to_status="cancelled", at=at(11, 9, 5),
                              reason="x")
    stats_calculate(since=date(2026, 11, 11), until=date(2026, 11, 11))
    day = OrdersDay.objects.get(day=date(2026, 11, 11), restaurant=None)
    assert (day.placed, day.delivered, day.cancelled, day.revenue) == (3, 2, 1, Decimal("24.00"))
    assert day.avg_minutes == pytest.approx(105) and day.p95_minutes == pytest.approx(145.5)
    assert day.late_share == pytest.approx(0.5)
    pizza_day = OrdersDay.objects.get(day=date(2026, 11, 11), restaurant=pizza.restaurant)
    pizza_figures = (pizza_day.placed, pizza_day.delivered, pizza_day.revenue, pizza_day.late_share)
    assert pizza_figures == (2, 2, Decimal("20.00"), 0.5)
    sushi_day = OrdersDay.objects.get(day=date(2026, 11, 11), restaurant=sushi.restaurant)
    assert (sushi_day.placed, sushi_day.delivered, sushi_day.cancelled, sushi_day.revenue) == (2, 1, 1, Decimal("4.00"))
    assert sushi_day.avg_minutes == pytest.approx(60)


def test_a_rerun_gives_the_same_rows(berlin):
    QuestionFactory(created_at=at(11, 12))
    delivered_order(created=at(11, 11), delivered=at(11, 12), dishes=[DishFactory()], total="9.50")
    stats_calculate(since=date(2026, 11, 10), until=date(2026, 11, 11))
    columns = ("day", "restaurant", "placed", "delivered", "revenue", "avg_minutes")
    rows = lambda: sorted(OrdersDay.objects.values_list(*columns),  # noqa: E731
                          key=lambda row: (row[0], row[1] or 0))
    first = rows()
    site = list(SiteDay.objects.order_by("day").values_list("day", "questions"))
    stats_calculate(since=date(2026, 11, 10), until=date(2026, 11, 11))
    assert rows() == first and len(first) == 3  # two days for the site, one for the restaurant
    assert list(SiteDay.objects.order_by("day").values_list("day", "questions")) == site


def test_calc_stats_command_defaults_to_yesterday_and_today_and_refuses_bad_dates():
    out = StringIO()
    call_command("calc_stats", stdout=out)
    assert "2 day(s)" in out.getvalue() and SiteDay.objects.count() == 2
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("calc_stats", "--since", "yesterday", stdout=StringIO())
    table = StringIO()
    call_command("stats", "--days", "3", stdout=table)
    assert len(table.getvalue().splitlines()) == 5 and "active_users" in table.getvalue()  # and a "-" footnote


def test_the_statistics_page_and_csv_are_for_staff_only(client):
    call_command("calc_stats", stdout=StringIO())
    assert client.get("/stats/?days=30")["Location"] == "/accounts/login/?next=/stats/%3Fdays%3D30", \
        "the site's own log-in page, and back"
    client.force_login(UserFactory())
    assert client.get("/stats/").status_code == 404
    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    page = staff.get("/stats/?days=90")
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") == 6
    assert "kozea" not in html and 'script src="http' not in html, "no script from elsewhere: SVG readable as it is"
    assert staff.get("/stats/?days=7").status_code == 404
    csv = staff.get("/stats/export.csv?days=30")
    lines = csv.content.decode().splitlines()
    assert csv["Content-Type"].startswith("text/csv") and len(lines) == 31 and lines[0].startswith("day,new_users")


@pytest.mark.django_db(transaction=True)
def test_figures_add_up_after_fill_db_fill_orders_the_processor_and_import_data(tmp_path):
    from django.utils import timezone

    from ask.qa.models import Answer, AnswerVote, Question, QuestionVote
    from orders.processing import orders_process_pass
    from orders.providers import close_external

    call_command("fill_db", "5", "--seed", "1", stdout=StringIO())
    call_command("fill_orders", "200", "--seed", "1", stdout=StringIO())
    orders_process_pass(batch_size=500)
    # Out through export_data and back in through import_data: the questions are then imported rows.
    exported = {}
    for model in ("questions", "answers", "votes"):
        out = StringIO()
        call_command("export_data", model, "--output", str(tmp_path / f"{model}.csv"), stdout=out, stderr=StringIO())
        exported[model] = tmp_path / f"{model}.csv"
    AnswerVote.objects.all().delete()
    QuestionVote.objects.all().delete()
    Answer.objects.all().delete()
    Question.objects.all().delete()
    for model, path in exported.items():
        call_command("import_data", model, str(path), stdout=StringIO(), stderr=StringIO())
    close_external()
    today = timezone.localdate()
    stats_calculate(since=today - timedelta(days=800), until=today)
    totals = {field: sum(SiteDay.objects.values_list(field, flat=True)) for field in ("questions", "answers", "votes")}
    assert totals == {"questions": Question.objects.count(), "answers": Answer.objects.count(),
                      "votes": QuestionVote.objects.count() + AnswerVote.objects.count()}
    site_wide = OrdersDay.objects.filter(restaurant=None)
    assert sum(site_wide.values_list("placed", flat=True)) == Order.objects.count()
    assert sum(site_wide.values_list("delivered", flat=True)) == Order.objects.filter(status="delivered").count()
    assert sum(site_wide.values_list("cancelled", flat=True)) == Order.objects.filter(status="cancelled").count()


def test_count_charts_tick_in_whole_numbers_and_a_page_of_charts_repeats_no_id():
    import re
    from datetime import date, timedelta

    from ask.stats.charts import count_ticks, line_chart

    assert count_ticks(0) == [0, 1] and count_ticks(3) == [0, 1, 2, 3, 4]
    assert count_ticks(47) == [0, 10, 20, 30, 40, 50] and count_ticks(1234) == [0, 300, 600, 900, 1200, 1500]
    days = [{"day": date(2026, 11, 1) + timedelta(days=n), "new_users": n % 2} for n in range(30)]
    svg = line_chart("Members", days, {"new users": "new_users"}, kind="count")[0] + line_chart(
        "Again", days, {"new users": "new_users"}, kind="count")[0]
    ticks = re.findall(r'<text x="-5" y="[^"]+" class="[^"]*">([^<]+)</text>', svg)
    assert ticks and all(tick.isdigit() for tick in ticks), ticks
    ids = re.findall(r' id="([^"]+)"', svg)
    assert len(ids) == len(set(ids)), "every id once on the page"
    assert "No data for these days yet" in line_chart("Empty", [], {"new users": "new_users"})[0]
    assert "<style" not in svg, "its CSS goes into the page's head, with the nonce"
