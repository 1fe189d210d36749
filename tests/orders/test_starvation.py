"""No starvation: a step that changes an order's state (a new order, a kitchen's or courier's report)
is taken before routine re-checks, however many of those are overdue."""
from datetime import timedelta
from decimal import Decimal

import pytest

from orders.models import Order, OrderItem, Ticket
from orders.processing import orders_process_pass
from orders.services import ticket_report
from orders.states import OrderStatus, TicketStatus
from tests.factories import UserFactory
from tests.orders.conftest import DUE_NOW, START
from tests.orders.factories import DishFactory, RestaurantFactory
from tests.orders.test_lifecycle import place

pytestmark = pytest.mark.django_db(transaction=True)


def overdue_rechecks(count: int, dish) -> None:
    """count cooking orders whose routine re-check is long overdue (their kitchen has said nothing)."""
    customer = UserFactory()
    orders = Order.objects.bulk_create([
        Order(customer=customer, eta=START + timedelta(minutes=40), total=Decimal("9"), address="x",
              created_at=START - timedelta(hours=1), status=OrderStatus.COOKING,
              next_check_at=START - timedelta(minutes=30)) for _ in range(count)])
    OrderItem.objects.bulk_create([OrderItem(order=o, dish=dish, quantity=1, price=dish.price) for o in orders])


def test_a_new_order_is_started_in_the_first_pass_behind_hundreds_of_overdue_rechecks(frozen_clock):
    dish = DishFactory(restaurant=RestaurantFactory())
    overdue_rechecks(300, dish)
    new = place([dish], eta_minutes=40)
    Order.objects.filter(pk=new.pk).update(eta=START + DUE_NOW, next_check_at=START)  # cooking due now
    result = orders_process_pass(batch_size=50)
    assert result.claimed == 50
    new.refresh_from_db()
    assert new.status == OrderStatus.COOKING and not new.urgent, "taken first, though due last"


def test_a_kitchens_report_is_acted_on_in_the_next_pass_behind_overdue_rechecks(frozen_clock):
    dish = DishFactory(restaurant=RestaurantFactory(integration="pushed"))
    order = place([dish], eta_minutes=40)
    Order.objects.filter(pk=order.pk).update(eta=START + DUE_NOW, next_check_at=START)
    orders_process_pass(batch_size=50)
    overdue_rechecks(300, dish)
    ticket = Ticket.objects.get(order=order)
    for status in (TicketStatus.COOKING, TicketStatus.COOKED):
        ticket_report(ticket=ticket, status=status, reason="webhook")
    orders_process_pass(batch_size=50)
    order.refresh_from_db()
    assert order.status == OrderStatus.COOKED, "the report's step came before 300 overdue re-checks"
