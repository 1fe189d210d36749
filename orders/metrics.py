"""The orders' gauges for /metrics (ask.core.metrics): orders on their way by status, and late ones."""
from typing import Iterable

from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily, Metric

from orders import clock
from orders.models import Order
from orders.states import ACTIVE_ORDER_STATUSES


def orders_gauges() -> Iterable[Metric]:
    """Only orders still on their way: the queue's partial index holds them, whatever the history."""
    active = Order.objects.filter(status__in=ACTIVE_ORDER_STATUSES)
    by_status = GaugeMetricFamily("ask_orders_in_flight", "Orders on their way, by status", labels=["status"])
    counts = dict(active.values_list("status").annotate(n=Count("pk")).order_by())
    for status in sorted(ACTIVE_ORDER_STATUSES):
        by_status.add_metric([status], counts.get(status, 0))
    late = GaugeMetricFamily("ask_orders_late", "Orders on their way that are late: flagged (their customer "
                             "told) or past their delivery time")
    late.add_metric([], active.filter(Q(expected_at__isnull=False) | Q(eta__lt=clock.now())).count())
    return [by_status, late]
