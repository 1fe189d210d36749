"""Several processors at once, and a processor killed mid-batch, in real processes."""
import signal
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from ask.jobs.models import JobRun
from orders.models import Order, OrderItem, ProviderCall, SimKitchenTicket, Ticket
from tests.factories import UserFactory
from tests.orders.conftest import DUE_NOW
from tests.orders.factories import DishFactory, RestaurantFactory
from tests.support import process_env, start_manage, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def due_orders(count: int) -> None:
    """count orders, each from two restaurants, due for cooking now."""
    dishes = [DishFactory(restaurant=RestaurantFactory()) for _ in range(2)]
    customer, now = UserFactory(), timezone.now()
    orders = Order.objects.bulk_create([
        Order(customer=customer, eta=now + DUE_NOW, total=Decimal("19.00"), address="x",
              created_at=now, next_check_at=now) for _ in range(count)])
    OrderItem.objects.bulk_create([OrderItem(order=o, dish=d, quantity=1, price=d.price)
                                   for o in orders for d in dishes])


def test_three_processors_at_once_process_every_order_once_with_no_duplicate_calls(var_dir):
    due_orders(1000)
    env = process_env(var_dir)
    procs = [start_manage("process_orders", "--loop", "--max-seconds", "20", "--interval", "0.3", env=env)
             for _ in range(3)]
    wait_for(lambda: not Order.objects.filter(status="not_started").exists(), 60, interval=0.5,
             what="all orders cooking")
    for proc in procs:
        proc.send_signal(signal.SIGTERM)  # loop jobs end cleanly after their pass
    for proc in procs:
        proc.communicate(timeout=30)
        assert proc.returncode == 0
    assert Order.objects.filter(status="cooking").count() == 1000
    assert Ticket.objects.count() == 2000
    calls = Counter(ProviderCall.objects.values_list("idempotency_key", flat=True))
    assert len(calls) == 2000 and max(calls.values()) == 1, "no external call was made twice"
    runs = JobRun.objects.filter(job="process_orders")
    assert runs.count() == 3 and set(runs.values_list("status", flat=True)) == {"ok"}
    assert sum(run.counters.get("to cooking", 0) for run in runs) == 1000


def test_a_processor_killed_mid_batch_leaves_nothing_half_done_and_a_rerun_completes(var_dir):
    due_orders(60)
    env = process_env(var_dir, ORDERS_SIM_CALL_MS="50")  # each outside call takes 50 ms: 6 s a batch
    proc = start_manage("process_orders", "--batch-size", "60", env=env)
    wait_for(lambda: ProviderCall.objects.count() >= 20, 30, interval=0.1, what="calls under way")
    proc.kill()
    proc.wait()
    assert Order.objects.filter(status="not_started").count() == 60, "the killed batch rolled back whole"
    assert not Ticket.objects.exists()
    rerun = start_manage("process_orders", "--batch-size", "60", env=process_env(var_dir))
    rerun.communicate(timeout=60)
    assert rerun.returncode == 0
    assert Order.objects.filter(status="cooking").count() == 60 and Ticket.objects.count() == 120
    assert SimKitchenTicket.objects.count() == 120, "repeated calls created nothing twice at the kitchens"
    ext = set(Ticket.objects.values_list("external_id", flat=True))
    assert ext == set(SimKitchenTicket.objects.values_list("external_id", flat=True))
