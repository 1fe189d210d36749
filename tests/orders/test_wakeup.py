"""An idle processor is woken by PostgreSQL's NOTIFY (a new order, a kitchen report), by the next
order's due time, and falls back to its --interval when a notification is lost; in real processes."""
import signal
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.db import connection
from django.utils import timezone

from ask.jobs.models import JobRun
from orders.models import Order, OrderItem, Ticket
from orders.services import order_place, ticket_report
from orders.states import TicketStatus
from tests.factories import UserFactory
from tests.orders.conftest import DUE_NOW
from tests.orders.factories import DishFactory, RestaurantFactory
from tests.support import process_env, start_manage, wait_for

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'")]
LONG = "30"  # --interval: far longer than any wait these tests accept


@pytest.fixture
def processor(var_dir):
    """A looping processor whose idle waits are LONG seconds unless woken; stopped with SIGTERM."""
    started = []

    def start(interval: str = LONG, listening_max_wait: str = LONG):
        proc = start_manage("process_orders", "--loop", "--max-seconds", "50", "--interval", interval,
                            env=process_env(var_dir, ORDERS_LISTENING_MAX_WAIT=listening_max_wait))
        started.append(proc)
        wait_for(_listening, 20, interval=0.1, what="the processor LISTENing")
        time.sleep(0.5)  # past its first (empty) pass, into its wait
        return proc

    yield start
    for proc in started:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def _listening() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %%' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0] > 0


def _order(due_in: timedelta, *, notify: bool) -> Order:
    dish = DishFactory(restaurant=RestaurantFactory())
    now = timezone.now()
    if notify:  # as a customer places it: the service announces it; cooking due 2 s later
        with override_settings(ORDERS_MIN_NOTICE_MINUTES=10):
            return order_place(customer=UserFactory(), cart={dish.pk: 1}, eta=now + DUE_NOW + timedelta(seconds=2),
                               address="x")
    order = Order.objects.create(customer=UserFactory(), eta=now + DUE_NOW, total=Decimal("9.50"),
                                 address="x", created_at=now, next_check_at=now + due_in)
    OrderItem.objects.create(order=order, dish=dish, quantity=1, price=dish.price)
    return order


def _seconds_until_cooking(order: Order, limit: float) -> float:
    start = time.monotonic()
    wait_for(lambda: Order.objects.get(pk=order.pk).status == "cooking", limit, interval=0.05,
             what=f"order {order.pk} cooking")
    return time.monotonic() - start


def test_a_placed_order_wakes_an_idle_processor_at_once(processor):
    proc = processor()
    waited = _seconds_until_cooking(_order(timedelta(0), notify=True), limit=15)
    assert waited < 5, f"{waited:.1f} s: woken by NOTIFY, not after the {LONG} s interval"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    run = JobRun.objects.filter(job="process_orders").latest("pk")
    assert run.counters.get("woken by notifications", 0) >= 1 and run.counters.get("to cooking") == 1


def test_a_kitchens_report_wakes_an_idle_processor_at_once(processor):
    """Cooked early: the order's next planned moment is minutes away, the report makes it due now."""
    processor()
    dish = DishFactory(restaurant=RestaurantFactory(integration="pushed"))
    with override_settings(ORDERS_MIN_NOTICE_MINUTES=10):
        order = order_place(customer=UserFactory(), cart={dish.pk: 1}, address="x",
                            eta=timezone.now() + DUE_NOW + timedelta(seconds=2))
    _seconds_until_cooking(order, limit=15)
    order.refresh_from_db()
    assert order.next_check_at > timezone.now() + timedelta(seconds=60), "nothing due for minutes"
    ticket = Ticket.objects.get(order=order)
    ticket_report(ticket=ticket, status=TicketStatus.COOKING, reason="staff")
    start = time.monotonic()
    ticket_report(ticket=ticket, status=TicketStatus.COOKED, reason="staff")
    wait_for(lambda: Order.objects.get(pk=order.pk).status == "cooked", 15, interval=0.05, what="the order cooked")
    assert time.monotonic() - start < 5, f"woken by the report's NOTIFY, not after the {LONG} s interval"


def test_an_order_due_soon_is_stepped_at_its_due_time_without_any_notification(processor):
    order = _order(timedelta(seconds=4), notify=False)
    start = time.monotonic()
    processor()  # its first pass finds nothing due; it waits until the order's due time, not LONG
    _seconds_until_cooking(order, limit=20)
    waited = time.monotonic() - start
    assert 3.5 < waited < 10, f"{waited:.1f} s after the order: stepped at its due time (4 s)"


def test_a_lost_notification_costs_at_most_the_listening_safety_net(processor):
    processor(interval="3", listening_max_wait="3")
    waited = _seconds_until_cooking(_order(timedelta(0), notify=False), limit=20)
    assert waited < 6, f"{waited:.1f} s: ORDERS_LISTENING_MAX_WAIT bounds the wait when nothing announces an order"


def test_a_killed_listen_connection_falls_back_to_polling_and_the_processor_goes_on(processor):
    proc = processor(interval="3")  # polling every 3 s once its LISTEN connection is gone
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %%' "
                       "AND pid <> pg_backend_pid()")
    waited = _seconds_until_cooking(_order(timedelta(0), notify=True), limit=20)
    assert waited < 8 and proc.poll() is None, "still running, and polling got the order"
