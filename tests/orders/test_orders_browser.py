"""In a real browser: a customer orders from two restaurants, staff mark cooking and cooked, the
processor runs, and the customer sees "delivered"."""
from datetime import timedelta
from io import StringIO

import pytest
from playwright.sync_api import expect
from django.core.management import call_command
from django.utils import timezone

from orders import clock
from orders.models import Order, Restaurant
from tests.factories import UserFactory
from tests.orders.factories import DishFactory, RestaurantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "secret-pass-1")
    page.click("button[type=submit]")


def process() -> None:
    call_command("process_orders", stdout=StringIO())


def test_order_from_two_restaurants_to_delivered(live_server, browser, settings):
    settings.ORDERS_SIM_PICKUP_SECONDS, settings.ORDERS_SIM_DELIVERY_SECONDS = 60, 300
    UserFactory(email="eater@example.com", display_name="Eater")
    cooks = {slug: UserFactory(email=f"cook@{slug}.example.com") for slug in ("pasta", "wok")}
    for slug, name in (("pasta", "Pasta Place"), ("wok", "Wok Shop")):
        restaurant = RestaurantFactory(slug=slug, name=name, integration=Restaurant.Integration.PUSHED)
        restaurant.staff.add(cooks[slug])
        DishFactory(restaurant=restaurant, name=f"{name} special", price="11.00")
    base = live_server.url
    contexts = [browser.new_context() for _ in range(3)]
    try:
        customer, pasta_cook, wok_cook = (context.new_page() for context in contexts)
        log_in(customer, base, "eater@example.com")
        customer.goto(base + "/orders/")
        customer.get_by_role("button", name="Add").nth(0).click()
        customer.get_by_role("button", name="Add").nth(1).click()
        customer.goto(base + "/orders/cart/")
        assert "22.00" in customer.locator("tfoot").inner_text()
        eta = timezone.localtime(timezone.now() + timedelta(minutes=40))
        customer.fill("#eta", eta.strftime("%Y-%m-%dT%H:%M"))
        customer.fill("#address", "7 Lovely Lane")
        customer.get_by_role("button", name="Place order").click()
        assert "Order received" in customer.locator(".order-status").inner_text()
        order_url = customer.url

        order = Order.objects.get()
        with clock.frozen(order.next_check_at):
            process()  # the kitchens' start, planned back from the time chosen: tickets to both
        for page, email, slug in ((pasta_cook, "cook@pasta.example.com", "pasta"),
                                  (wok_cook, "cook@wok.example.com", "wok")):
            log_in(page, base, email)
            page.goto(f"{base}/orders/staff/{slug}/")
            page.get_by_role("button", name="Mark cooking").click()
            page.get_by_role("button", name="Mark cooked").click()
            assert "No tickets to cook." not in page.content()  # cooked tickets wait for the driver
        order.refresh_from_db()
        with clock.frozen(order.courier_at):  # cooked early: the driver is asked for at the planned moment
            process()  # cooked
            process()  # driver requested
        # The customer's page, open all along, follows by itself (its script polls orders:order_live).
        expect(customer.locator(".order-status")).to_contain_text("Ready: the driver is picking it up",
                                                                  timeout=15_000)
        with clock.frozen(order.courier_at + timedelta(minutes=10)):
            process()  # picked up
            process()  # delivered
        expect(customer.locator(".order-status strong")).to_have_text("Delivered", timeout=15_000)
        assert customer.url == order_url
        timeline = customer.locator(".timeline").inner_text()
        assert "Being prepared at Pasta Place and Wok Shop" in timeline and "Delivered" in timeline
        assert "driver_lookup" not in customer.content()
    finally:
        for context in contexts:
            context.close()


