"""fill_orders: every status, consistent history, and the processor can carry on from it."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Sum

from orders import clock
from orders.models import Order, OrderEvent, OrderItem
from orders.processing import orders_process_pass
from orders.states import ACTIVE_ORDER_STATUSES

pytestmark = pytest.mark.django_db(transaction=True)


def test_fill_orders_spreads_orders_over_statuses_with_consistent_rows():
    out = StringIO()
    call_command("fill_orders", "400", "--seed", "4", stdout=out)
    assert "wrote 400 orders" in out.getvalue()
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {"not_started", "delivered", "cancelled"} <= statuses and len(statuses) >= 6
    assert_history_matches_status()
    for order in Order.objects.annotate(items_total=Sum(F("items__price") * F("items__quantity"))):
        assert order.total == order.items_total
    assert not Order.objects.filter(status="delivered", delivered_at=None).exists()
    assert OrderItem.objects.count() >= 400
    due = Order.objects.filter(status__in=ACTIVE_ORDER_STATUSES, next_check_at__lte=clock.now()).count()
    assert due > 0
    result = orders_process_pass(batch_size=500)  # the processor takes over the orders on their way
    assert (result.claimed, result.errors) == (due, 0)
    assert sum(result.moved.values()) > 0
    assert_history_matches_status()
    call_command("fill_orders", "10", "--if-empty", stdout=out)
    assert Order.objects.count() == 400


def assert_history_matches_status():
    """Each order's latest event leads to the status the order has."""
    for order in Order.objects.all():
        last = OrderEvent.objects.filter(order=order).order_by("-at", "-id").first()
        assert last.to_status == order.status, order.pk
