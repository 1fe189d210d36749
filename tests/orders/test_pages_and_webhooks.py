"""Customer pages, staff pages and the webhooks of outside systems."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from orders.cache_keys import MENU_DATA
from orders.models import Delivery, Order, OrderItem, Ticket
from orders.processing import orders_process_pass
from orders.states import TicketStatus
from orders.services import dish_update, order_place, ticket_report
from tests.factories import UserFactory
from tests.orders.conftest import DUE_NOW, START
from tests.orders.factories import WEBHOOK_TOKEN, DishFactory, RestaurantFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customer(client):
    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client


def cooking_order(restaurant, frozen_clock, provider="polled"):
    dish = DishFactory(restaurant=restaurant)
    order = order_place(customer=UserFactory(), cart={dish.pk: 1}, eta=START + timedelta(minutes=40), address="x")
    Order.objects.filter(pk=order.pk).update(delivery_provider=provider, eta=START + DUE_NOW, next_check_at=START)
    orders_process_pass(batch_size=10)
    return Ticket.objects.get(order=order)


def test_menu_cart_checkout_and_order_page(customer, frozen_clock):
    pizza = DishFactory(name="Margherita", price="8.00", description="Tomato, mozzarella, basil",
                        restaurant=RestaurantFactory(name="Pizzeria Napoli"))
    soup = DishFactory(name="Miso soup", price="3.50", restaurant=RestaurantFactory(name="Sushi Kaito"))
    menu = customer.get("/orders/").content.decode()
    assert "Margherita" in menu and "Miso soup" in menu and "€8.00" in menu
    assert '<span class="dish-description">Tomato, mozzarella, basil</span>' in menu
    customer.post("/orders/cart/update/", {"add": pizza.pk, "qty": "2"})
    customer.post("/orders/cart/update/", {"add": soup.pk, "qty": "1"})
    cart = customer.get("/orders/cart/").content.decode()
    assert "€19.50" in cart and "€2.50" in cart and "€22.00" in cart, "dishes, delivery fee, total"
    assert 'data-cart-count>3<' in cart
    too_soon = customer.post("/orders/checkout/", {"eta": "2026-11-23T12:15Z", "address": "1 Main St"})
    assert too_soon.status_code == 400 and not Order.objects.exists()
    assert "That time is no longer offered" in too_soon.content.decode()
    response = customer.post("/orders/checkout/", {"eta": "2026-11-23T14:00Z", "address": "1 Main St"})
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.pk}/" and str(order.total) == "22.00"
    assert order.eta == START + timedelta(hours=2)
    page = customer.get(f"/orders/{order.pk}/").content.decode()
    assert "Order received" in page and "Order placed" in page and "Cancel the order" in page
    assert 'aria-current="step"' not in page, "nothing is under way before the kitchens start"
    assert "To <strong>1 Main St</strong>" in page
    parts = page.split('<section class="order-part">')[1:]
    assert [part.split("</h3>")[0].split("<h3>")[1] for part in parts] == ["Pizzeria Napoli", "Sushi Kaito"]
    assert "2 × Margherita" in parts[0] and "1 × Miso soup" in parts[1], "each restaurant's part"
    assert "Your cart is empty" in customer.get("/orders/cart/").content.decode()
    mine = customer.get("/orders/mine/").content.decode()
    assert f"Order {order.pk}" in mine and ">Received</span>" in mine, "its status in words"


def test_prices_are_in_the_currency_set(customer, frozen_clock, settings):
    settings.ORDERS_CURRENCY = "USD"
    DishFactory(name="Margherita", price="8.00")
    assert "$8.00" in customer.get("/orders/").content.decode()
    settings.ORDERS_CURRENCY = "CHF"
    assert "8.00 CHF" in customer.get("/orders/").content.decode()


def test_a_customer_sees_only_their_own_orders(customer, frozen_clock):
    other = order_place(customer=UserFactory(), cart={DishFactory().pk: 1}, eta=START + timedelta(hours=2), address="x")
    assert customer.get(f"/orders/{other.pk}/").status_code == 404
    assert customer.post(f"/orders/{other.pk}/cancel/").status_code == 404


def test_the_cached_menu_is_dropped_when_a_dish_changes(client):
    dish = DishFactory(name="Old name")
    client.get("/orders/")
    assert cache.get(MENU_DATA) is not None
    dish_update(dish=dish, name="New name")
    assert "New name" in client.get("/orders/").content.decode()


def test_the_cached_menu_is_dropped_when_staff_change_a_dish_in_the_admin(client):
    dish = DishFactory(name="Old name", price=Decimal("5.00"))
    client.get("/orders/")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    restaurant = dish.restaurant
    form = {"name": restaurant.name, "slug": restaurant.slug, "integration": restaurant.integration,
            "opens_at": "08:00", "closes_at": "23:00", "cook_minutes": "15", "sim_cook_seconds": "120",
            "dishes-TOTAL_FORMS": "1", "dishes-INITIAL_FORMS": "1", "dishes-MIN_NUM_FORMS": "0",
            "dishes-MAX_NUM_FORMS": "1000", "dishes-0-id": str(dish.pk), "dishes-0-restaurant": str(restaurant.pk),
            "dishes-0-name": "Renamed in the admin", "dishes-0-price": "5.00", "dishes-0-available": "on"}
    response = client.post(f"/admin/orders/restaurant/{restaurant.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    assert "Renamed in the admin" in client.get("/orders/").content.decode()


def test_staff_find_an_order_by_number_or_customer_and_pick_a_customer_by_search(client, frozen_clock):
    """Issue finding: the order admin had no search and a dropdown of every customer (2,815 of them)."""
    ada = UserFactory(email="ada@example.com", display_name="Ada")
    for _ in range(30):
        UserFactory()
    order = order_place(customer=ada, cart={DishFactory().pk: 1}, eta=START + timedelta(minutes=40), address="x")
    other = order_place(customer=UserFactory(), cart={DishFactory().pk: 1}, eta=START + timedelta(minutes=40),
                        address="y")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for term in ("ada@example", "Ada"):
        page = client.get("/admin/orders/order/", {"q": term})
        assert page.status_code == 200 and list(page.context["cl"].result_list) == [order], term
    assert order in client.get("/admin/orders/order/", {"q": str(order.pk)}).context["cl"].result_list
    assert client.get("/admin/orders/order/", {"q": "x' OR 1=1 --"}).status_code == 200
    change = client.get(f"/admin/orders/order/{other.pk}/change/").content.decode()
    assert "admin-autocomplete" in change and change.count("<option") < 20, "no dropdown of every customer"
    found = client.get("/admin/autocomplete/", {"app_label": "orders", "model_name": "order",
                                                "field_name": "customer", "term": "ada@"}).json()
    assert [result["id"] for result in found["results"]] == [str(ada.pk)]


def test_a_late_order_shows_the_minutes_late(customer, frozen_clock):
    order = order_place(customer=customer.user, cart={DishFactory().pk: 1}, eta=START + timedelta(minutes=40),
                        address="x")
    Order.objects.filter(pk=order.pk).update(delayed_minutes=12)
    assert "12 minutes late" in customer.get(f"/orders/{order.pk}/").content.decode()


def test_staff_see_and_mark_only_their_own_restaurants_tickets(frozen_clock):
    mine, theirs = RestaurantFactory(integration="pushed"), RestaurantFactory(integration="pushed")
    cook = UserFactory()
    mine.staff.add(cook)
    my_ticket, their_ticket = cooking_order(mine, frozen_clock), cooking_order(theirs, frozen_clock)
    client = Client()
    client.force_login(cook)
    assert client.get("/orders/staff/")["Location"] == f"/orders/staff/{mine.slug}/"
    page = client.get(f"/orders/staff/{mine.slug}/").content.decode()
    assert f"Order {my_ticket.order_id}" in page and f"Order {their_ticket.order_id}" not in page
    assert client.get(f"/orders/staff/{theirs.slug}/").status_code == 404
    assert client.post(f"/orders/staff/{theirs.slug}/tickets/{their_ticket.pk}/",
                       {"status": "cooking"}).status_code == 404
    assert client.post(f"/orders/staff/{mine.slug}/tickets/{their_ticket.pk}/",
                       {"status": "cooking"}).status_code == 404
    client.post(f"/orders/staff/{mine.slug}/tickets/{my_ticket.pk}/", {"status": "cooking"})
    client.post(f"/orders/staff/{mine.slug}/tickets/{my_ticket.pk}/", {"status": "cooked"})
    assert Ticket.objects.get(pk=my_ticket.pk).status == "cooked"
    assert Ticket.objects.get(pk=their_ticket.pk).status == "not_started"
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/orders/staff/{mine.slug}/").status_code == 404


def test_the_kitchen_page_groups_its_tickets_flags_late_ones_and_serves_its_live_part(frozen_clock):
    kitchen = RestaurantFactory(name="Kitchen", integration="pushed")
    cook = UserFactory()
    kitchen.staff.add(cook)
    late, ready = cooking_order(kitchen, frozen_clock), cooking_order(kitchen, frozen_clock)
    ticket_report(ticket=ready, status=TicketStatus.COOKED, reason="staff")
    coming = order_place(customer=UserFactory(), cart={DishFactory(restaurant=kitchen).pk: 1},
                         eta=START + timedelta(hours=2), address="x")
    later = RestaurantFactory(cook_minutes=114)  # the order's other kitchen starts now, this one at 13:44
    OrderItem.objects.create(order=coming, dish=DishFactory(restaurant=later), quantity=1, price=1)
    Order.objects.filter(pk=coming.pk).update(next_check_at=START)
    orders_process_pass(batch_size=10)
    frozen_clock.advance(minutes=12)  # past the first ticket's pickup (12:10)
    client = Client()
    client.force_login(cook)
    live = client.get(f"/orders/staff/{kitchen.slug}/live/")
    assert "private" in live["Cache-Control"] and live.json()["final"] is False
    html = live.json()["html"]
    to_cook, waiting, coming_up, done = html.split("<h2>")[1:]
    assert f"Order {late.order_id}" in to_cook and ">Late<" in to_cook
    assert f"Order {ready.order_id}" in waiting and ">Late<" not in waiting
    assert f"Order {coming.pk} · starts 13:44" in coming_up
    assert f"Order {late.order_id}" not in done and f"Order {ready.order_id}" not in done
    page = client.get(f"/orders/staff/{kitchen.slug}/").content.decode()
    assert live.json()["version"] in page, "the page carries the version its script compares"
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/orders/staff/{kitchen.slug}/live/").status_code == 404
    ticket_report(ticket=late, status=TicketStatus.REJECTED, reason="staff")
    done = client.get(f"/orders/staff/{kitchen.slug}/live/").json()["html"].split("<h2>")[-1]
    assert f"Order {late.order_id} · Rejected" in done, "finished tickets apart from the active ones"
    ahead = order_place(customer=UserFactory(), cart={DishFactory(restaurant=kitchen).pk: 2},
                        eta=START + timedelta(hours=3), address="x")
    coming_up = client.get(f"/orders/staff/{kitchen.slug}/live/").json()["html"].split("<h2>")[3]
    assert f"Order {ahead.pk} · placed ahead, pickup" in coming_up and "2 × " in coming_up, \
        "an order placed ahead shows before any kitchen starts it"


def test_an_orders_live_part_is_its_customers_alone_and_says_when_it_is_final(customer, frozen_clock):
    order = order_place(customer=customer.user, cart={DishFactory().pk: 1}, eta=START + timedelta(hours=1),
                        address="x")
    live = customer.get(f"/orders/{order.pk}/live/")
    assert "private" in live["Cache-Control"] and live.json()["final"] is False
    assert "Order received" in live.json()["html"] and "not_started" not in live.json()["html"].replace(
        "status-not_started", "")
    other = order_place(customer=UserFactory(), cart={DishFactory().pk: 1}, eta=START + timedelta(hours=1),
                        address="y")
    assert customer.get(f"/orders/{other.pk}/live/").status_code == 404
    customer.post(f"/orders/{order.pk}/cancel/")
    assert customer.get(f"/orders/{order.pk}/live/").json()["final"] is True
    assert "data-live-url" not in customer.get(f"/orders/{order.pk}/").content.decode(), "nothing left to follow"


def post_hook(url, body, token=WEBHOOK_TOKEN, raw=None):
    return Client().post(url, data=raw if raw is not None else json.dumps(body), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}")


def test_restaurant_webhook_answers_each_bad_input_clearly(frozen_clock):
    restaurant = RestaurantFactory(integration="pushed")
    ticket = cooking_order(restaurant, frozen_clock)
    url = f"/orders/hooks/restaurants/{restaurant.slug}/"
    assert post_hook(url, {"external_id": ticket.external_id, "status": "cooking"}, token="wrong").status_code == 403
    assert post_hook(url, {}, raw="{not json").status_code == 400
    assert post_hook(url, {"external_id": ticket.external_id}).status_code == 400
    assert post_hook(url, {"external_id": ticket.external_id, "status": "eaten"}).status_code == 400
    assert post_hook(url, {"external_id": "K-nope", "status": "cooking"}).status_code == 404
    other = RestaurantFactory(integration="pushed")
    other_url = f"/orders/hooks/restaurants/{other.slug}/"
    assert post_hook(other_url, {"external_id": ticket.external_id, "status": "cooking"}).status_code == 404
    ok = post_hook(url, {"external_id": ticket.external_id, "status": "cooked"})
    assert ok.status_code == 200 and ok.json() == {"external_id": ticket.external_id, "status": "cooked"}
    again = post_hook(url, {"external_id": ticket.external_id, "status": "cooked"})
    assert again.status_code == 200, "repeating is a no-op"
    assert post_hook(url, {"external_id": ticket.external_id, "status": "cooking"}).status_code == 409
    assert Client().get(url).status_code == 405


def test_courier_webhook_follows_a_pushed_delivery(frozen_clock, settings):
    settings.ORDERS_DELIVERY_WEBHOOK_TOKEN = "courier-token"
    restaurant = RestaurantFactory(integration="pushed")
    ticket = cooking_order(restaurant, frozen_clock, provider="pushed")
    post_hook(f"/orders/hooks/restaurants/{restaurant.slug}/", {"external_id": ticket.external_id, "status": "cooked"})
    orders_process_pass(batch_size=10)
    frozen_clock.advance(minutes=8)  # cooked early: the driver is asked for at the planned moment
    orders_process_pass(batch_size=10)
    delivery = Delivery.objects.get()
    url = "/orders/hooks/courier/"
    assert post_hook(url, {"external_id": delivery.external_id, "status": "picked_up"}, token="nope").status_code == 403
    assert post_hook(url, {"external_id": "D-unknown", "status": "picked_up"}, token="courier-token").status_code == 404
    assert post_hook(url, {"external_id": delivery.external_id, "status": "delivered"},
                     token="courier-token").status_code == 200
    assert post_hook(url, {"external_id": delivery.external_id, "status": "picked_up"},
                     token="courier-token").status_code == 409
    orders_process_pass(batch_size=10)
    assert Order.objects.get().status == "delivered"
