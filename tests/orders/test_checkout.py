"""Checkout as customers meet it: delivery slots in their own time zone (DST days included), each
error at its field with what was typed kept, the menu's closed restaurants, one form a dish, the
cart's count, fee and currency."""
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from orders.models import Order
from orders.planning import plan_backward
from orders.services import OrderRefused, order_estimates
from orders.slots import delivery_slots, slot_at
from tests.factories import UserFactory
from tests.orders.conftest import START
from tests.orders.factories import DishFactory, RestaurantFactory

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


def member(zone: str = "America/New_York") -> Client:
    client = Client()
    client.force_login(UserFactory(time_zone=zone))
    return client


def test_slots_on_the_autumn_dst_day_name_both_half_past_ones_and_mean_two_instants(frozen_clock):
    frozen_clock.at(utc(2026, 11, 1, 4, 0))  # midnight in New York, summer time
    slots = delivery_slots(now=frozen_clock.now, restaurants=[RestaurantFactory()], zone=NEW_YORK)
    labels = {slot.label: slot.at for slot in slots if slot.day.startswith("Today")}
    assert slots[0].label == "00:30 EDT" and slots[0].day == "Today, Sun 1 Nov", "30 minutes' notice"
    assert labels["01:30 EDT"] == utc(2026, 11, 1, 5, 30) and labels["01:30 EST"] == utc(2026, 11, 1, 6, 30)
    assert [s.label for s in slots[3:9]] == ["01:15 EDT", "01:30 EDT", "01:45 EDT", "01:00 EST", "01:15 EST",
                                             "01:30 EST"]


def test_slots_on_the_spring_dst_day_skip_the_hour_that_does_not_exist(frozen_clock):
    frozen_clock.at(utc(2026, 3, 8, 5, 0))  # midnight in New York, winter time
    slots = delivery_slots(now=frozen_clock.now, restaurants=[RestaurantFactory()], zone=NEW_YORK)
    labels = [slot.label for slot in slots if slot.day.startswith("Today")]
    assert "01:45 EST" in labels and not [label for label in labels if label.startswith("02:")]
    assert labels[labels.index("01:45 EST") + 1] == "03:00 EDT"


def test_slots_keep_within_every_restaurants_hours_in_the_sites_zone(frozen_clock):
    lunch = RestaurantFactory(opens_at=time(11), closes_at=time(14))
    dinner = RestaurantFactory(opens_at=time(13), closes_at=time(22))
    slots = delivery_slots(now=frozen_clock.now, restaurants=[lunch, dinner], zone=NEW_YORK)
    today = [slot for slot in slots if slot.at.date() == START.date()]
    starts = plan_backward(today[0].at, *order_estimates([lunch, dinner])).starts
    assert min(starts.values()) >= utc(2026, 11, 23, 13, 0), "no kitchen is to start before it opens"
    assert min(plan_backward(today[0].at - timedelta(minutes=15), *order_estimates([lunch, dinner]))
               .starts.values()) < utc(2026, 11, 23, 13, 0), "the first slot whose kitchens start open"
    assert today[-1].at == utc(2026, 11, 23, 14, 0)
    local = today[0].at.astimezone(NEW_YORK)
    assert today[0].label == f"{local:%H:%M} EST", "shown in New York"
    assert all(time(13) <= s.at.time() <= time(14) for s in slots), "only while both are open"


def test_checkout_on_the_dst_day_stores_the_instant_the_customer_chose(frozen_clock):
    frozen_clock.at(utc(2026, 11, 1, 4, 0))
    client, dish = member(), DishFactory()
    client.post("/orders/cart/update/", {"add": dish.pk, "qty": "1"})
    page = client.get("/orders/cart/").content.decode()
    assert '<option value="2026-11-01T06:30Z">01:30 EST</option>' in page
    assert '<option value="2026-11-01T05:30Z">01:30 EDT</option>' in page
    assert "Times in your time zone (America/New_York)" in page
    client.post("/orders/checkout/", {"eta": "2026-11-01T06:30Z", "address": "1 Main St"})
    order = Order.objects.get()
    assert order.eta == utc(2026, 11, 1, 6, 30)
    shown = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Nov 1, 01:30 EST" in shown, shown[shown.index("order-when"):][:400]


@pytest.mark.parametrize("posted,field,problem", [
    ({"eta": "", "address": "1 Main St"}, "eta", "Choose a delivery time."),
    ({"eta": "2026-11-23T12:15Z", "address": "1 Main St"}, "eta", "That time is no longer offered"),
    ({"eta": "2026-11-23T12:17Z", "address": "1 Main St"}, "eta", "That time is no longer offered"),
    ({"eta": "2026-11-23T14:00Z", "address": "   "}, "address", "Give the address to deliver to."),
    ({"eta": "2026-11-23T14:00Z", "address": "x" * 201}, "address", "at most 200 characters (this one has 201)"),
])
def test_every_checkout_error_is_at_its_field_and_keeps_what_was_typed(frozen_clock, posted, field, problem):
    client, dish = member("UTC"), DishFactory()
    client.post("/orders/cart/update/", {"add": dish.pk, "qty": "2"})
    response = client.post("/orders/checkout/", posted)
    assert response.status_code == 400 and not Order.objects.exists()
    page = response.content.decode()
    error = page.split(f'id="{field}-error">', 1)[1].split("</div>", 1)[0]
    assert problem in error
    if field == "eta" and posted["address"].strip():
        assert f'value="{posted["address"]}"' in page, "the address is still there"
    if field == "address":
        assert '<option value="2026-11-23T14:00Z" selected>' in page, "the time is still chosen"
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize("field", ["eta", None])
def test_a_refusal_by_the_service_after_the_form_passed_keeps_what_was_typed(frozen_clock, monkeypatch, field):
    """What only placing can find (checked again under its lock): at its field, or above the form."""
    def refuse(**kwargs):
        raise OrderRefused("Green Bowl stopped taking orders for today.", field=field)

    monkeypatch.setattr("orders.views.order_place", refuse)
    client, dish = member("UTC"), DishFactory()
    client.post("/orders/cart/update/", {"add": dish.pk, "qty": "2"})
    response = client.post("/orders/checkout/", {"eta": "2026-11-23T14:00Z", "address": "1 Main St"})
    page = response.content.decode()
    assert response.status_code == 400 and "Green Bowl stopped taking orders for today." in page
    if field:
        assert "Green Bowl stopped" in page.split('id="eta-error">', 1)[1].split("</div>", 1)[0]
    assert '<option value="2026-11-23T14:00Z" selected>' in page and 'value="1 Main St"' in page


def test_a_slot_that_passed_while_the_page_was_open_is_refused_at_its_field(frozen_clock):
    client, dish = member("UTC"), DishFactory()
    client.post("/orders/cart/update/", {"add": dish.pk, "qty": "1"})
    assert 'value="2026-11-23T12:30Z"' in client.get("/orders/cart/").content.decode()
    frozen_clock.advance(minutes=5)
    response = client.post("/orders/checkout/", {"eta": "2026-11-23T12:30Z", "address": "1 Main St"})
    assert response.status_code == 400 and "That time is no longer offered" in response.content.decode()


def test_a_closed_restaurant_is_marked_and_its_dishes_cannot_be_added(frozen_clock):
    late = RestaurantFactory(name="Night Owl", opens_at=time(18), closes_at=time(23))
    owl, open_dish = DishFactory(restaurant=late, name="Owl soup"), DishFactory(name="Noon soup")
    client = Client()
    menu = client.get("/orders/").content.decode()
    assert "Closed · opens 18:00 UTC" in menu
    assert menu.count("data-add-form") == 1, "one form a dish, for open restaurants only"
    assert f'name="add" value="{open_dish.pk}"' in menu and f'name="add" value="{owl.pk}"' not in menu
    refused = client.post("/orders/cart/update/", {"add": owl.pk, "qty": "1"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and refused.json() == {"error": "Night Owl is closed now (opens 18:00 UTC)."}
    frozen_clock.at(utc(2026, 11, 23, 18, 0))
    assert client.post("/orders/cart/update/", {"add": owl.pk, "qty": "1"}).status_code == 302
    assert 'data-cart-count>1<' in client.get("/orders/").content.decode()


def test_a_member_reads_a_restaurants_hours_in_their_own_zone(frozen_clock):
    """Its hours are kept in the site's zone (UTC here); a member in New York reads them in theirs."""
    RestaurantFactory(name="Night Owl", opens_at=time(18), closes_at=time(23))
    client = Client()
    client.force_login(UserFactory(time_zone="America/New_York"))
    menu = client.get("/orders/").content.decode()
    assert "Closed · opens 13:00 EST" in menu and "hours 13:00–18:00 EST" in menu
    frozen_clock.at(utc(2026, 11, 23, 23, 30))  # closed for the day: it opens tomorrow
    assert "Closed · opens 13:00 EST" in client.get("/orders/").content.decode()
    assert "hours 18:00–23:00 UTC" in Client().get("/orders/").content.decode(), "visitors: the site's zone"


def test_adding_answers_json_for_the_menus_script_and_the_cart_removes_a_line(frozen_clock):
    soup, bread = DishFactory(name="Soup"), DishFactory(name="Bread")
    client = Client()
    added = client.post("/orders/cart/update/", {"add": soup.pk, "qty": "2"}, HTTP_ACCEPT="application/json")
    assert added.json() == {"count": 2, "message": "Added 2 × Soup to your cart."}
    client.post("/orders/cart/update/", {"add": bread.pk, "qty": "1"})
    client.post("/orders/cart/update/", {"set": soup.pk, "qty": "5", "remove": soup.pk})
    cart = client.get("/orders/cart/").content.decode()
    assert "Bread" in cart and "Soup" not in cart and 'data-cart-count>1<' in cart


def test_a_members_zone_comes_from_the_browser_once_and_a_planted_one_is_ignored():
    user = UserFactory(time_zone="")
    client = Client()
    client.force_login(user)
    assert "data-tz-unknown" in client.get("/orders/").content.decode()
    client.cookies["tz"] = "../../etc/passwd"
    client.get("/orders/")
    user.refresh_from_db()
    assert user.time_zone == ""
    client.cookies["tz"] = "Asia/Kolkata"
    assert "data-tz-unknown" not in client.get("/orders/").content.decode()
    user.refresh_from_db()
    assert user.time_zone == "Asia/Kolkata"
    client.cookies["tz"] = "Europe/Paris"
    client.get("/orders/")
    user.refresh_from_db()
    assert user.time_zone == "Asia/Kolkata", "the profile's zone stays until the member changes it"


def test_slot_values_are_read_strictly():
    assert slot_at("2026-11-01T06:30Z") == utc(2026, 11, 1, 6, 30)
    for bad in ("2026-11-01T06:30", "2026-02-30T10:00Z", "2026-11-01T24:00Z", "", "x" * 100, None):
        assert slot_at(bad) is None


def test_a_member_picks_a_zone_in_the_settings_and_a_made_up_one_is_refused_at_its_field():
    user = UserFactory(time_zone="")
    client = Client()
    client.force_login(user)
    page = client.get("/settings/").content.decode()
    assert '<option value="America/New_York">America/New_York</option>' in page
    refused = client.post("/settings/", {"display_name": "Eater", "time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 400 and "Choose a time zone from the list." in refused.content.decode()
    client.post("/settings/", {"display_name": "Eater", "time_zone": "Europe/Lisbon"})
    user.refresh_from_db()
    assert user.time_zone == "Europe/Lisbon"
    assert '<option value="Europe/Lisbon" selected>' in client.get("/settings/").content.decode()


@pytest.mark.parametrize("fee,currency,problem", [("2,50", "EUR", "orders.E001"), ("-1", "EUR", "orders.E001"),
                                                   ("2.505", "EUR", "orders.E001"), ("2.50", "euro", "orders.E002")])
def test_a_bad_fee_or_currency_stops_the_checks_named(settings, fee, currency, problem):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.ORDERS_DELIVERY_FEE, settings.ORDERS_CURRENCY = fee, currency
    with pytest.raises(SystemCheckError, match=problem):
        call_command("check")


def test_a_members_zone_never_reaches_what_other_readers_are_served():
    from ask.qa.services import question_create

    question_create(author=UserFactory(), title="When is it?", text="Times everywhere.", tag_names=["time"])
    far_east = member("Pacific/Kiritimati")  # UTC+14: its date is tomorrow's most of the day
    far_east.get("/")  # renders and caches every question card
    shown = Client().get("/").content.decode()
    card = shown[shown.index('class="question-card"'):][:1500]
    assert " UTC" in card and "+14" not in card, "the shared card is in the site's zone"


def test_a_dish_deleted_while_in_a_cart_goes_from_it_and_set_works_only_on_the_carts_dishes(frozen_clock):
    soup, gone = DishFactory(name="Soup"), DishFactory(name="Gone")
    client = Client()
    client.post("/orders/cart/update/", {"add": soup.pk, "qty": "1"})
    client.post("/orders/cart/update/", {"add": gone.pk, "qty": "2"})
    gone.delete()
    cart = client.get("/orders/cart/").content.decode()
    assert "data-cart-count>1<" in cart and cart.count('class="cart-line"') == 1 and "<strong>Gone" not in cart
    other = DishFactory(name="Other")
    refused = client.post("/orders/cart/update/", {"set": other.pk, "qty": "5"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and "not in your cart" in refused.json()["error"]
    removed = client.post("/orders/cart/update/", {"remove": soup.pk}, HTTP_ACCEPT="application/json")
    assert removed.json() == {"count": 0, "message": "Removed from your cart."}


def test_adding_says_what_the_cart_holds_and_refuses_nothing_to_add(frozen_clock):
    fries = DishFactory(name="Fries")
    client = member("UTC")
    post = lambda qty: client.post("/orders/cart/update/", {"add": fries.pk, "qty": qty},  # noqa: E731
                                   HTTP_ACCEPT="application/json")
    assert post("0").json() == {"error": "Choose how many: 1 or more."}
    assert post("30").json()["message"] == "Added 30 × Fries to your cart."
    assert post("30").json() == {"count": 50, "message": "Added 20 × Fries: your cart holds 50, the most of one dish."}
    assert post("1").json()["message"] == "Your cart already holds 50 × Fries, the most of one dish."
    assert client.get("/orders/checkout/")["Location"] == "/orders/cart/", "a reload after a refused checkout"
