"""Orders through their whole lifecycle with each kind of restaurant and courier, on PostgreSQL."""
from datetime import timedelta
from decimal import Decimal

import pytest
from post_office.models import Email

from orders.models import Order, OrderEvent, ProviderCall, Ticket
from orders.processing import orders_process_pass, restaurants_sync
from orders.services import OrderRefused, delivery_report, order_cancel, order_place, order_transition, ticket_report
from orders.states import IllegalTransition, OrderStatus, TicketStatus
from tests.factories import UserFactory
from tests.orders.conftest import START
from tests.orders.factories import DishFactory, RestaurantFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the simulators commit on a connection of their own


def process() -> None:
    orders_process_pass(batch_size=100)


def statuses(order: Order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True))


def place(dishes, *, eta_minutes=90, provider="polled", **kw):
    cart = {dish.pk: 2 for dish in dishes}
    order = order_place(customer=kw.get("customer") or UserFactory(), cart=cart,
                        eta=START + timedelta(minutes=eta_minutes), address="1 Main St")
    if provider != "polled":
        Order.objects.filter(pk=order.pk).update(delivery_provider=provider)
        order.refresh_from_db()
    return order


def test_polled_restaurants_and_polled_courier_from_placed_to_delivered_at_the_chosen_time(frozen_clock, settings):
    settings.ORDERS_SIM_PICKUP_SECONDS, settings.ORDERS_SIM_DELIVERY_SECONDS = 60, 600
    a, b = DishFactory(price=Decimal("10.00")), DishFactory(price=Decimal("2.25"))
    order = place([a, b])  # at 13:30; pickup planned 13:19 (10 min road, 1 min margin), cooking 10 min
    assert order.total == Decimal("27.00") and order.delivery_fee == Decimal("2.50"), "24.50 and the fee"
    assert order.status == OrderStatus.NOT_STARTED
    assert order.next_check_at == START + timedelta(minutes=69), "first needed when the kitchens are to start"
    process()
    assert Order.objects.get().status == OrderStatus.NOT_STARTED
    frozen_clock.advance(minutes=69)
    process()
    order.refresh_from_db()
    assert order.status == OrderStatus.COOKING and order.tickets.count() == 2
    assert order.pickup_at == START + timedelta(minutes=79) and order.courier_at == START + timedelta(minutes=78)
    assert order.next_check_at == order.courier_at, "nothing polled: next is booking the driver"
    frozen_clock.advance(minutes=9)
    process()  # the driver is booked for the pickup while the kitchens cook
    order.refresh_from_db()
    assert order.status == OrderStatus.COOKING and order.delivery.external_id
    assert order.next_check_at == START + timedelta(minutes=80), "then only whether it is late"
    frozen_clock.advance(minutes=1)  # the kitchens took 10 minutes
    restaurants_sync(batch_size=10)
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.COOKED}
    process()  # -> cooked
    process()  # -> driver lookup: the driver is there, the food ready
    frozen_clock.advance(seconds=20)
    process()  # picked up -> delivering
    frozen_clock.advance(minutes=10)
    process()  # delivered at 13:29:20
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.delayed_minutes == 0 and order.expected_at is None
    assert order.delivered_at == START + timedelta(minutes=89, seconds=20)
    assert statuses(order) == ["not_started", "cooking", "cooked", "driver_lookup", "delivering", "delivered"]
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.PICKED_UP}
    assert [e.subject for e in Email.objects.order_by("pk")] == [
        f"Your order {order.pk} is cooked and on its way soon", f"Your order {order.pk} was delivered"]
    keys = list(ProviderCall.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == 3, "two tickets and one delivery, each asked for once"


def test_each_kitchen_starts_so_that_every_part_is_ready_together(frozen_clock):
    slow = DishFactory(restaurant=RestaurantFactory(name="Slow", cook_minutes=40, sim_cook_seconds=2400))
    quick = DishFactory(restaurant=RestaurantFactory(name="Quick", cook_minutes=10))
    order = place([slow, quick], eta_minutes=120)  # pickup 13:54 (5 min road, 1 min margin)
    frozen_clock.at(order.next_check_at)
    assert frozen_clock.now == START + timedelta(minutes=74)
    process()
    tickets = {t.restaurant.name: t for t in Ticket.objects.select_related("restaurant")}
    assert tickets["Slow"].sent_at == frozen_clock.now and tickets["Quick"].external_id is None
    assert tickets["Quick"].start_at == START + timedelta(minutes=104)
    assert Order.objects.get().next_check_at == tickets["Quick"].start_at
    frozen_clock.advance(minutes=30)
    process()
    assert Ticket.objects.get(restaurant__name="Quick").sent_at == frozen_clock.now


def test_the_cooking_estimate_is_learned_from_the_restaurants_latest_tickets(frozen_clock):
    from django.core.cache import cache

    from orders.planning import LEARN_AT_LEAST, cook_estimates

    restaurant = RestaurantFactory(cook_minutes=10)
    for minutes in range(LEARN_AT_LEAST - 1):
        order = place([DishFactory(restaurant=restaurant)], eta_minutes=300)
        Ticket.objects.create(order=order, restaurant=restaurant, idempotency_key=f"t{minutes}", updated_at=START,
                              sent_at=START, cooked_at=START + timedelta(minutes=20 + minutes))
    cache.clear()
    assert cook_estimates([restaurant]) == {restaurant.pk: timedelta(minutes=10)}, "too few: its own estimate"
    order = place([DishFactory(restaurant=restaurant)], eta_minutes=300)
    Ticket.objects.create(order=order, restaurant=restaurant, idempotency_key="last", updated_at=START,
                          sent_at=START, cooked_at=START + timedelta(minutes=30))
    assert cook_estimates([restaurant]) == {restaurant.pk: timedelta(minutes=10)}, "cached for ten minutes"
    cache.clear()
    assert cook_estimates([restaurant]) == {restaurant.pk: timedelta(minutes=30)}, "4 of 5 done by then"


def test_an_order_that_cannot_make_its_time_is_flagged_and_the_customer_told(frozen_clock):
    slow = RestaurantFactory(cook_minutes=10, sim_cook_seconds=1800)  # it takes 30 minutes, not 10
    order = place([DishFactory(restaurant=slow)], eta_minutes=60)  # pickup 12:54, start 12:44
    frozen_clock.advance(minutes=44)
    process()
    frozen_clock.advance(minutes=8)
    process()  # 12:52: the driver booked
    frozen_clock.advance(minutes=3)
    process()  # 12:55: not cooked yet, but expected out by 12:56 and at the door 13:01: within 5 minutes
    order.refresh_from_db()
    assert order.expected_at is None and order.late_at is None
    assert order.next_check_at == frozen_clock.now + timedelta(minutes=2)
    frozen_clock.advance(minutes=5)
    process()  # 13:00: at the door no sooner than 13:06
    order.refresh_from_db()
    assert order.expected_at == START + timedelta(minutes=66) and order.late_at == frozen_clock.now
    late = Email.objects.get()
    assert late.subject == f"Your order {order.pk} is running late: now expected around 13:06 UTC"
    assert f"/orders/{order.pk}/" in late.message
    frozen_clock.advance(minutes=5)
    process()
    order.refresh_from_db()
    assert order.expected_at == START + timedelta(minutes=71), "the estimate kept true"
    assert Email.objects.count() == 1, "told once"
    frozen_clock.at(START + timedelta(minutes=74))  # cooked at last; the driver waited
    restaurants_sync(batch_size=10)
    process()
    process()
    frozen_clock.advance(minutes=5, seconds=20)
    process()
    process()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.delayed_minutes == 20


def test_pushed_restaurant_and_pushing_courier_report_through_services(frozen_clock):
    dish = DishFactory(restaurant=RestaurantFactory(integration="pushed"))
    order = place([dish], eta_minutes=40, provider="pushed")  # pickup 12:34, start 12:24, driver asked 12:32
    frozen_clock.advance(minutes=24)
    process()
    ticket = Ticket.objects.get()
    assert Order.objects.get().status == OrderStatus.COOKING
    restaurants_sync(batch_size=10)
    assert Ticket.objects.get().status == TicketStatus.NOT_STARTED, "a pushing restaurant is never polled"
    ticket_report(ticket=ticket, status=TicketStatus.COOKING, reason="staff")
    ticket_report(ticket=ticket, status=TicketStatus.COOKED, reason="staff")
    process()
    process()
    order.refresh_from_db()
    assert order.status == OrderStatus.COOKED and order.next_check_at == order.courier_at, \
        "cooked early, it waits for the driver's moment: the food does not leave early"
    frozen_clock.advance(minutes=8)
    process()
    order.refresh_from_db()
    assert order.status == OrderStatus.DRIVER_LOOKUP
    delivery_report(delivery=order.delivery, status="picked_up")
    process()
    frozen_clock.advance(minutes=18)
    delivery_report(delivery=order.delivery, status="delivered")
    process()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.delayed_minutes == 10


def test_a_rejected_ticket_rejects_the_order(frozen_clock):
    dish = DishFactory(restaurant=RestaurantFactory(integration="pushed"))
    order = place([dish, DishFactory()], eta_minutes=40)
    frozen_clock.advance(minutes=24)
    process()
    ticket_report(ticket=Ticket.objects.get(restaurant=dish.restaurant), status=TicketStatus.REJECTED,
                  reason="out of fish")
    process()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COOKING_REJECTED


def test_the_processor_cancels_an_order_whose_eta_passed_before_cooking(frozen_clock, settings):
    order = place([DishFactory()], eta_minutes=60)
    frozen_clock.advance(minutes=61)
    process()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.next_check_at is None
    cancellation = OrderEvent.objects.filter(order=order, to_status="cancelled").get()
    assert cancellation.reason.startswith("the delivery time passed")


def test_the_customer_cancels_only_before_cooking(frozen_clock):
    customer = UserFactory()
    order = place([DishFactory()], eta_minutes=200, customer=customer)
    order_cancel(order=order, user=customer)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    with pytest.raises(OrderRefused, match="already cancelled"):
        order_cancel(order=order, user=customer)
    started = place([DishFactory()], eta_minutes=40, customer=customer)
    frozen_clock.advance(minutes=24)
    process()
    with pytest.raises(OrderRefused, match="can no longer be cancelled"):
        order_cancel(order=started, user=customer)


@pytest.mark.parametrize("eta_minutes,problem", [(10, "at least 30 minutes"), (-5, "at least 30 minutes")])
def test_orders_need_enough_notice(frozen_clock, eta_minutes, problem):
    with pytest.raises(OrderRefused, match=problem):
        place([DishFactory()], eta_minutes=eta_minutes)
    assert not Order.objects.exists()


def test_an_eta_no_plan_can_keep_is_refused_naming_the_earliest(frozen_clock):
    slow = DishFactory(restaurant=RestaurantFactory(cook_minutes=40))
    with pytest.raises(OrderRefused, match="The earliest delivery time for this order is 12:46"):
        place([slow], eta_minutes=45)  # 40 minutes' cooking, 5 on the road, 1 in hand
    place([slow], eta_minutes=46)


def test_orders_only_within_opening_hours(frozen_clock):
    from datetime import time

    dish = DishFactory(restaurant=RestaurantFactory(name="Lunch Place", opens_at=time(11), closes_at=time(14)))
    with pytest.raises(OrderRefused, match="Not open at that time: Lunch Place"):
        place([dish], eta_minutes=180)  # 15:00 UTC
    place([dish], eta_minutes=90)


def test_every_illegal_transition_raises(frozen_clock):
    from orders.states import ORDER_TRANSITIONS

    order = place([DishFactory()])
    for status in OrderStatus:
        for target in OrderStatus:
            Order.objects.filter(pk=order.pk).update(status=status)
            order.refresh_from_db()
            if target in ORDER_TRANSITIONS.get(status, set()):
                continue
            with pytest.raises(IllegalTransition):
                order_transition(order, target, "test")


def test_a_failed_delivery_ends_not_delivered(frozen_clock, settings):
    from orders.models import SimDeliveryJob

    settings.ORDERS_SIM_PICKUP_SECONDS, settings.ORDERS_SIM_DELIVERY_SECONDS = 60, 60
    dish = DishFactory(restaurant=RestaurantFactory(integration="pushed"))
    order = place([dish], eta_minutes=40)  # pickup 12:38, start 12:28, driver asked 12:37
    frozen_clock.advance(minutes=28)
    process()
    ticket_report(ticket=Ticket.objects.get(), status=TicketStatus.COOKED, reason="staff")
    process()
    frozen_clock.advance(minutes=9)
    process()
    SimDeliveryJob.objects.update(fails=True)
    frozen_clock.advance(seconds=90)
    process()  # picked up
    frozen_clock.advance(minutes=2)
    process()  # the courier gives up
    order.refresh_from_db()
    assert order.status == OrderStatus.NOT_DELIVERED and order.next_check_at is None
    assert statuses(order)[-2:] == ["delivering", "not_delivered"]


def test_every_illegal_ticket_transition_raises(frozen_clock):
    from orders.states import TICKET_TRANSITIONS

    dish = DishFactory(restaurant=RestaurantFactory(integration="pushed"))
    place([dish], eta_minutes=40)
    frozen_clock.advance(minutes=24)
    process()
    ticket = Ticket.objects.get()
    for status in TicketStatus:
        for target in TicketStatus:
            Ticket.objects.filter(pk=ticket.pk).update(status=status)
            if target == status or target in TICKET_TRANSITIONS.get(status, set()):
                continue
            with pytest.raises(IllegalTransition):
                ticket_report(ticket=ticket, status=target, reason="test")


def test_an_outside_failure_puts_that_order_back_and_the_others_go_on(frozen_clock, monkeypatch):
    from orders import providers

    broken = RestaurantFactory(name="Broken")
    place([DishFactory(restaurant=broken)], eta_minutes=40)
    fine = place([DishFactory()], eta_minutes=40)
    real = providers.SimulatedKitchen.send_ticket

    def send(self, ticket):
        if ticket.restaurant_id == broken.pk:
            raise ConnectionError("kitchen unreachable")
        return real(self, ticket)

    monkeypatch.setattr(providers.SimulatedKitchen, "send_ticket", send)
    frozen_clock.advance(minutes=24)
    result = orders_process_pass(batch_size=10)
    assert result.errors == 1 and result.moved == {"cooking": 1}
    assert Order.objects.get(pk=fine.pk).status == OrderStatus.COOKING
    stuck = Order.objects.exclude(pk=fine.pk).get()
    assert stuck.status == OrderStatus.NOT_STARTED
    assert stuck.next_check_at == START + timedelta(minutes=24, seconds=60)
    assert not Ticket.objects.filter(order=stuck).exists()


def test_the_progress_line_marks_only_what_is_under_way(frozen_clock):
    from orders import progress

    dish = DishFactory(restaurant=RestaurantFactory(integration="pushed"))
    order = place([dish], eta_minutes=40, provider="pushed")

    def current():
        order.refresh_from_db()
        return [step.label.split(" at ")[0] for step in progress.steps(order) if step.state == "current"]

    assert current() == [], "placed: the kitchens have not started"
    frozen_clock.advance(minutes=24)
    process()
    assert current() == ["Being prepared"]
    ticket_report(ticket=Ticket.objects.get(), status=TicketStatus.COOKED, reason="staff")
    process()
    order.refresh_from_db()
    assert order.status == OrderStatus.COOKED and current() == []
    assert progress.headline(order) == "Cooked and packed: a driver is booked for the pickup", "none is driving yet"
