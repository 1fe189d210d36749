"""In a real browser: a customer in New York orders from two restaurants for a slot on a phone; staff
mark cooking and cooked on their kitchen pages; the customer's open order page moves through each
status by itself, without a reload, and no page is wider than the phone."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from orders import clock
from orders.models import Order, Restaurant
from tests.ask.qa.test_editing_browser import _look
from tests.factories import UserFactory
from tests.orders.factories import DishFactory, RestaurantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "secret-pass-1")
    page.click("button[type=submit]")


def process(at) -> None:
    with clock.frozen(at):
        call_command("process_orders", stdout=StringIO())


def _kitchens():
    cooks = {}
    for slug, name in (("pasta", "Pasta Place"), ("wok", "Wok Shop")):
        restaurant = RestaurantFactory(slug=slug, name=name, integration=Restaurant.Integration.PUSHED)
        cooks[slug] = UserFactory(email=f"cook@{slug}.example.com")
        restaurant.staff.add(cooks[slug])
        DishFactory(restaurant=restaurant, name=f"{name} special", price="11.00",
                    description=f"The house dish of {name}, cooked to order.")
    return cooks


def _order_on_a_phone(phone, base) -> str:
    """Log in (the browser tells the site its zone), add two dishes without leaving the menu,
    pick a slot, place the order; returns the order page's address."""
    log_in(phone, base, "eater@example.com")
    phone.goto(base + "/orders/")
    _look(phone, "orders-menu", 390)
    phone.get_by_role("button", name="Add Pasta Place special").click()
    expect(phone.locator("[data-added]")).to_have_text("Added 1 × Pasta Place special to your cart.")
    wok = phone.get_by_label("How many Wok Shop special")
    wok.fill("2")
    wok.press("Enter")  # one form a dish: Enter adds this dish, not the first on the page
    expect(phone.locator("[data-added]")).to_have_text("Added 2 × Wok Shop special to your cart.")
    expect(phone.locator("[data-cart-count]")).to_have_text("3")
    phone.goto(base + "/orders/cart/")
    assert User.objects.get(email="eater@example.com").time_zone == "America/New_York", "told by the browser"
    phone.get_by_role("button", name="Place order").click()  # no address yet: said at the field
    expect(phone.locator("#address-error")).to_contain_text("Give the address to deliver to.")
    _look(phone, "orders-checkout-errors", 390)
    slot = phone.locator("#id_eta option").nth(3)
    label = slot.inner_text()
    assert label.endswith(" EST"), f"slots in the customer's zone, named: {label}"
    phone.select_option("#id_eta", value=slot.get_attribute("value"))
    phone.fill("#id_address", "7 Lovely Lane")
    _look(phone, "orders-cart", 390)
    phone.get_by_role("button", name="Place order").click()
    expect(phone.locator(".order-status")).to_contain_text("Order received")
    assert f"{label[:5]} EST" in phone.locator(".order-when").inner_text()
    return phone.url


def test_a_customer_in_new_york_follows_an_order_from_two_kitchens_without_reloading(live_server, browser, settings):
    settings.ORDERS_SIM_PICKUP_SECONDS, settings.ORDERS_SIM_DELIVERY_SECONDS = 60, 300
    UserFactory(email="eater@example.com", display_name="Eater", time_zone="")
    _kitchens()
    base = live_server.url
    phone_context = browser.new_context(timezone_id="America/New_York", viewport={"width": 390, "height": 800})
    contexts = [phone_context] + [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(2)]
    try:
        phone, pasta_cook, wok_cook = (context.new_page() for context in contexts)
        order_url = _order_on_a_phone(phone, base)
        phone.evaluate("window.notReloaded = true")
        order = Order.objects.get()
        process(order.next_check_at)  # the kitchens' start, planned back from the slot: tickets to both
        expect(phone.locator(".order-status")).to_contain_text("Being prepared at Pasta Place and Wok Shop",
                                                               timeout=15_000)
        for page, slug in ((pasta_cook, "pasta"), (wok_cook, "wok")):
            log_in(page, base, f"cook@{slug}.example.com")
            page.goto(f"{base}/orders/")
            page.get_by_role("link", name="Kitchen").click()  # a restaurant's cook finds it in the header
            assert page.url == f"{base}/orders/staff/{slug}/"
            name = "Pasta Place" if slug == "pasta" else "Wok Shop"
            page.get_by_role("button", name="Mark cooking").click()
            expect(phone.locator(".order-kitchens")).to_contain_text(f"{name}: cooking", timeout=15_000)
            page.get_by_role("button", name="Mark cooked").click()
            expect(phone.locator(".order-kitchens")).to_contain_text(f"{name}: ready", timeout=15_000)
            expect(page.locator(".kitchen-group").nth(1)).to_contain_text(f"Order {order.pk}")
            _look(page, f"orders-kitchen-{slug}", 1280)
            page.set_viewport_size({"width": 390, "height": 800})
            _look(page, f"orders-kitchen-{slug}", 390)
        order.refresh_from_db()
        process(order.next_check_at)  # the kitchens' reports: every part cooked
        expect(phone.locator(".order-status")).to_contain_text("Cooked and packed", timeout=15_000)
        process(order.courier_at)  # cooked early: the driver is asked for at the planned moment
        process(order.courier_at)
        expect(phone.locator(".order-status")).to_contain_text("Ready: the driver is picking it up",
                                                               timeout=15_000)
        process(order.pickup_at + timedelta(seconds=30))  # picked up
        expect(phone.locator(".order-status")).to_contain_text("Driver on the way", timeout=15_000)
        process(order.eta)  # delivered
        expect(phone.locator(".order-status strong")).to_have_text("Delivered", timeout=15_000)
        assert phone.url == order_url and phone.evaluate("window.notReloaded === true"), "never reloaded"
        timeline = phone.locator(".timeline").inner_text()
        assert "Being prepared at Pasta Place and Wok Shop" in timeline and "driver_lookup" not in phone.content()
        _look(phone, "orders-order", 390)
        phone.goto(base + "/orders/mine/")
        _look(phone, "orders-mine", 390)
    finally:
        for context in contexts:
            context.close()
