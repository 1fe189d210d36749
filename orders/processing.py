"""The order processor: each pass claims due orders with SELECT … FOR UPDATE SKIP LOCKED and moves
each one step. Any number of processors may run at once (several hosts): a claimed order is locked
until its step commits, so no two work on it, and every step checks the status it starts from.
External calls carry idempotency keys, so a processor killed mid-step (its transaction rolled
back) repeats the call on the next pass without creating anything twice."""
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from orders import clock
from orders.models import Delivery, Order, Restaurant, Ticket
from orders.providers import courier_for, kitchen_for
from orders.services import delivery_report, minutes_late, order_transition, ticket_report
from orders.states import ACTIVE_ORDER_STATUSES, DeliveryStatus, IllegalTransition, OrderStatus, TicketStatus

logger = logging.getLogger(__name__)

RETRY_AFTER_ERROR = timedelta(seconds=60)  # an order whose step raised waits this long


@dataclass
class PassResult:
    claimed: int = 0
    moved: dict = field(default_factory=dict)  # "cooking" -> 3: orders moved into each status
    errors: int = 0

    @property
    def advanced(self) -> int:
        return sum(self.moved.values())


def orders_process_pass(*, batch_size: int) -> PassResult:
    """Claim up to batch_size due orders and move each one step, one transaction each."""
    result = PassResult()
    now = clock.now()
    with transaction.atomic():
        claimed = list(
            Order.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=ACTIVE_ORDER_STATUSES, next_check_at__lte=now)
            .order_by("next_check_at")
            .select_related("customer")[:batch_size]
        )
        result.claimed = len(claimed)
        for order in claimed:
            try:
                with transaction.atomic():  # a savepoint: one order's failure spares the others
                    before = order.status
                    _step(order)
                    if order.status != before:
                        result.moved[order.status] = result.moved.get(order.status, 0) + 1
            except Exception:
                logger.exception("order %s: step from %s failed; retrying in %s", order.pk, order.status,
                                 RETRY_AFTER_ERROR)
                result.errors += 1
                Order.objects.filter(pk=order.pk).update(next_check_at=now + RETRY_AFTER_ERROR)
    return result


def _later() -> object:
    return clock.now() + timedelta(seconds=settings.ORDERS_POLL_SECONDS)


def _step(order: Order) -> None:
    now = clock.now()
    if order.eta < now:
        late = minutes_late(order.eta, now)
        if late != order.delayed_minutes:
            order.delayed_minutes = late
            order.save(update_fields=["delayed_minutes"])
    handler = {
        OrderStatus.NOT_STARTED: _start_cooking,
        OrderStatus.COOKING: _check_kitchens,
        OrderStatus.COOKED: _request_driver,
        OrderStatus.DRIVER_LOOKUP: _follow_delivery,
        OrderStatus.DELIVERING: _follow_delivery,
    }[order.status]
    next_check = handler(order)
    if order.status in ACTIVE_ORDER_STATUSES:
        order.next_check_at = next_check
        order.save(update_fields=["next_check_at"])


def _start_cooking(order: Order):
    now = clock.now()
    if order.eta <= now:
        order_transition(order, OrderStatus.CANCELLED, "the delivery time passed before cooking could start")
        return None
    start = order.eta - timedelta(minutes=settings.ORDERS_LEAD_MINUTES)
    if start > now:
        return start
    restaurant_ids = sorted(set(order.items.values_list("dish__restaurant_id", flat=True)))
    for restaurant in Restaurant.objects.filter(pk__in=restaurant_ids).order_by("pk"):
        ticket, _ = Ticket.objects.get_or_create(
            order=order, restaurant=restaurant,
            defaults={"idempotency_key": f"ticket-{order.pk}-{restaurant.pk}", "updated_at": now},
        )
        if ticket.external_id is None:
            ticket.external_id = kitchen_for(restaurant).send_ticket(ticket)
            ticket.save(update_fields=["external_id"])
    order_transition(order, OrderStatus.COOKING, f"tickets sent to {len(restaurant_ids)} restaurant(s)")
    return _later()


def _check_kitchens(order: Order):
    statuses = set(order.tickets.values_list("status", flat=True))
    if TicketStatus.REJECTED in statuses:
        order_transition(order, OrderStatus.COOKING_REJECTED, "a restaurant rejected its part")
        return None
    if statuses == {TicketStatus.COOKED}:
        order_transition(order, OrderStatus.COOKED, "every restaurant has cooked its part")
        return clock.now()
    return _later()


def _request_driver(order: Order):
    delivery, _ = Delivery.objects.get_or_create(
        order=order, defaults={"provider": order.delivery_provider, "idempotency_key": f"delivery-{order.pk}",
                               "updated_at": clock.now()},
    )
    if delivery.external_id is None:
        delivery.external_id = courier_for(delivery.provider).request(delivery)
        delivery.save(update_fields=["external_id"])
    order_transition(order, OrderStatus.DRIVER_LOOKUP, f"driver requested ({delivery.provider} courier)")
    return _later()


def _follow_delivery(order: Order):
    delivery = order.delivery
    reported = courier_for(delivery.provider).status(delivery)
    if reported and reported != delivery.status:
        try:
            delivery = delivery_report(delivery=delivery, status=reported)
        except IllegalTransition:
            logger.warning("delivery %s: courier reported %s after %s; ignored", delivery.pk, reported, delivery.status)
    if delivery.status in (DeliveryStatus.PICKED_UP, DeliveryStatus.DELIVERED) and order.status == OrderStatus.DRIVER_LOOKUP:
        for ticket in order.tickets.filter(status=TicketStatus.COOKED):
            ticket_report(ticket=ticket, status=TicketStatus.PICKED_UP, reason="picked up by the driver")
        order_transition(order, OrderStatus.DELIVERING, "the driver picked the food up")
    if delivery.status == DeliveryStatus.DELIVERED:
        order_transition(order, OrderStatus.DELIVERED, "delivered")
        return None
    if delivery.status == DeliveryStatus.FAILED:
        order_transition(order, OrderStatus.NOT_DELIVERED, "the courier could not deliver")
        return None
    return _later()


def restaurants_sync(*, batch_size: int) -> dict:
    """Ask the polled kitchens where the tickets of cooking orders are; report what changed."""
    counts = {"polled": 0, "changed": 0}
    last = 0
    while True:
        tickets = list(
            Ticket.objects.select_related("restaurant")
            .filter(pk__gt=last, restaurant__integration=Restaurant.Integration.POLLED,
                    status__in=[TicketStatus.NOT_STARTED, TicketStatus.COOKING], order__status=OrderStatus.COOKING)
            .exclude(Q(external_id=None)).order_by("pk")[:batch_size]
        )
        if not tickets:
            return counts
        last = tickets[-1].pk
        counts["polled"] += len(tickets)
        by_restaurant: dict[int, list[Ticket]] = {}
        for ticket in tickets:
            by_restaurant.setdefault(ticket.restaurant_id, []).append(ticket)
        for group in by_restaurant.values():
            reported = kitchen_for(group[0].restaurant).statuses(group)
            for ticket in group:
                status = reported.get(ticket.pk)
                if status and status != ticket.status:
                    try:
                        ticket_report(ticket=ticket, status=status, reason="polled")
                        counts["changed"] += 1
                    except IllegalTransition:
                        logger.warning("ticket %s: kitchen reported %s after %s; ignored", ticket.pk, status, ticket.status)
