"""The order processor: each pass claims due orders with SELECT … FOR UPDATE SKIP LOCKED and moves
each one step. Any number of processors may run at once (several hosts): a claimed order is locked
until its step commits, so no two work on it, and every step checks the status it starts from.
External calls carry idempotency keys, so a processor killed mid-step (its transaction rolled
back) repeats the call on the next pass without creating anything twice."""
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q

from orders import clock
from orders.models import Delivery, Order, OrderEvent, OrderItem, Restaurant, Ticket
from orders.planning import CourierEstimate, cook_estimates, expected_delivery, plan_backward
from orders.providers import courier_for, kitchen_for
from orders.services import delivery_report, late_mail_queue, minutes_late, order_transition, ticket_report
from orders.states import (
    ACTIVE_ORDER_STATUSES,
    TICKET_TRANSITIONS,
    DeliveryStatus,
    IllegalTransition,
    OrderStatus,
    TicketStatus,
    statuses_into,
)

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


@dataclass
class Batch:
    """What a pass writes, gathered so each table is written once per pass, not once per order."""

    events: list = field(default_factory=list)
    tickets: list = field(default_factory=list)
    restaurants_of: dict = field(default_factory=dict)  # order id -> its restaurants, for new tickets
    cook: dict = field(default_factory=dict)  # restaurant id -> its cooking-time estimate
    couriers: dict = field(default_factory=dict)  # provider -> its CourierEstimate


SAVED_FIELDS = ["status", "next_check_at", "delayed_minutes", "delivered_at", "pickup_at", "courier_at", "expected_at",
                "late_at"]
LATE_RECHECK = timedelta(minutes=2)  # a late order's estimate is looked at again this often


def orders_process_pass(*, batch_size: int) -> PassResult:
    """Claim up to batch_size due orders and move each one step, all in one transaction.

    An order whose step raises (an outside system failing, say) is put back for RETRY_AFTER_ERROR and
    the others go on: outside calls come before any write of that order. A database error ends the
    pass and rolls it back whole; the next pass does it again.
    """
    result, batch = PassResult(), Batch()
    now = clock.now()
    with transaction.atomic():
        claimed = _claim(now, batch_size)
        result.claimed = len(claimed)
        _load_restaurants(batch, [o.pk for o in claimed if o.status == OrderStatus.NOT_STARTED])
        for order in claimed:
            before = order.status
            try:
                _step(order, batch)
            except DatabaseError:
                raise
            except Exception:
                logger.exception("order %s: step from %s failed; retrying in %s", order.pk, before, RETRY_AFTER_ERROR)
                result.errors += 1
                order.status, order.next_check_at = before, now + RETRY_AFTER_ERROR
            if order.status != before:
                result.moved[order.status] = result.moved.get(order.status, 0) + 1
        Ticket.objects.bulk_create(batch.tickets)
        OrderEvent.objects.bulk_create(batch.events)
        Order.objects.bulk_update(claimed, SAVED_FIELDS)
        # Their step is taken: no longer urgent (a separate UPDATE of the few, not a fifth column in
        # the bulk one of every order: that cost the bulk pass a quarter of its speed).
        Order.objects.filter(pk__in=[o.pk for o in claimed if o.urgent]).update(urgent=False)
    return result


def _claim(now, batch_size: int) -> list[Order]:
    """Due orders, the urgent ones first (a new order, a report: never queued behind routine
    re-checks, however many are overdue), then the longest overdue. Two index scans, no sort of the
    whole queue: orders_order_urgent holds only the few urgent ones."""
    due = (Order.objects.select_for_update(skip_locked=True, of=("self",))
           .filter(status__in=ACTIVE_ORDER_STATUSES, next_check_at__lte=now).select_related("customer"))
    claimed = list(due.filter(urgent=True).order_by("next_check_at")[:batch_size])
    if len(claimed) < batch_size:
        claimed += list(due.filter(urgent=False).order_by("next_check_at")[:batch_size - len(claimed)])
    return claimed


def _load_restaurants(batch: Batch, order_ids: list[int]) -> None:
    pairs = OrderItem.objects.filter(order_id__in=order_ids).values_list("order_id", "dish__restaurant_id").distinct()
    restaurants = Restaurant.objects.in_bulk({restaurant_id for _, restaurant_id in pairs})
    for order_id, restaurant_id in sorted(pairs):
        batch.restaurants_of.setdefault(order_id, []).append(restaurants[restaurant_id])
    batch.cook = cook_estimates(list(restaurants.values()))


def _later() -> object:
    return clock.now() + timedelta(seconds=settings.ORDERS_POLL_SECONDS)


def _step(order: Order, batch: Batch) -> None:
    now = clock.now()
    if order.eta < now:
        order.delayed_minutes = minutes_late(order.eta, now)
    handler = {
        OrderStatus.NOT_STARTED: _start_cooking,
        OrderStatus.COOKING: _check_kitchens,
        OrderStatus.COOKED: _request_driver,
        OrderStatus.DRIVER_LOOKUP: _follow_delivery,
        OrderStatus.DELIVERING: _follow_delivery,
    }[order.status]
    next_check = handler(order, batch)
    order.next_check_at = next_check if order.status in ACTIVE_ORDER_STATUSES else None


def _courier(batch: Batch, provider: str) -> CourierEstimate:
    if provider not in batch.couriers:
        batch.couriers[provider] = courier_for(provider).estimate()
    return batch.couriers[provider]


def _start_cooking(order: Order, batch: Batch):
    """Plan backward from the eta (orders.planning) and, once the first kitchen's start is due, create
    every ticket and send the ones due; the others go as their own starts come."""
    now = clock.now()
    if order.eta <= now:
        order_transition(order, OrderStatus.CANCELLED, "the delivery time passed before cooking could start",
                         batch=batch.events)
        return None
    restaurants = batch.restaurants_of.get(order.pk, [])
    courier = _courier(batch, order.delivery_provider)
    plan = plan_backward(order.eta, {r.pk: batch.cook[r.pk] for r in restaurants}, courier)
    if plan.first_step_at > now:
        return plan.first_step_at  # planned again then: the estimates may have moved
    order.pickup_at, order.courier_at = plan.pickup_at, plan.courier_at
    # The order is locked and its step commits whole or not at all, so its tickets are new here;
    # only the outside kitchens may have seen them (a killed run): hence the idempotency keys.
    tickets = [Ticket(order=order, restaurant=r, idempotency_key=f"ticket-{order.pk}-{r.pk}", updated_at=now,
                      start_at=plan.starts[r.pk]) for r in restaurants]
    for ticket in tickets:
        if ticket.start_at <= now:
            _send(ticket, now)
    batch.tickets.extend(tickets)
    order_transition(order, OrderStatus.COOKING, "being prepared", batch=batch.events)
    ready = max(max(t.start_at, now) + batch.cook[t.restaurant_id] for t in tickets) if tickets else now
    _judge_lateness(order, batch, expected_delivery(now, ready_at=ready, courier=courier))
    return _cooking_next(order, tickets, booked=False)


def _send(ticket: Ticket, now) -> None:
    ticket.external_id = kitchen_for(ticket.restaurant).send_ticket(ticket)
    ticket.sent_at = ticket.updated_at = now


def _cooking_next(order: Order, tickets: list[Ticket], *, booked: bool):
    """The next planned moment of a cooking order: a kitchen's start, asking the courier, or looking
    whether it is late. Kitchens' reports wake it themselves (urgent), so nothing is polled."""
    if order.pickup_at is None:  # cooking since before plans were made: looked at as before
        return _later()
    moments = [t.start_at for t in tickets if t.external_id is None and t.start_at]
    if not booked:
        moments.append(order.courier_at)
    moments.append(_lateness_check_at(order))
    return max(min(moments), clock.now())


def _lateness_check_at(order: Order):
    """When to look whether the order still makes its time: just after its planned pickup, then
    every few minutes while it is late (few orders), to keep the customer's estimate true."""
    now = clock.now()
    first = order.pickup_at + timedelta(seconds=settings.ORDERS_PLAN_MARGIN_SECONDS)
    return first if first > now else now + LATE_RECHECK


def _judge_lateness(order: Order, batch: Batch, expected) -> None:
    """Late: expected after the eta plus ORDERS_ON_TIME_MINUTES. The customer is told once (mail and
    page) and the page keeps the estimate; back on time, the estimate is dropped."""
    if expected <= order.eta + timedelta(minutes=settings.ORDERS_ON_TIME_MINUTES):
        order.expected_at = None
        return
    order.expected_at = expected
    if order.late_at is None:
        order.late_at = clock.now()
        late_mail_queue(order)


def _check_kitchens(order: Order, batch: Batch):
    now = clock.now()
    tickets = list(order.tickets.select_related("restaurant"))
    statuses = {t.status for t in tickets}
    if TicketStatus.REJECTED in statuses:
        order_transition(order, OrderStatus.COOKING_REJECTED, "a restaurant rejected its part", batch=batch.events)
        return None
    for ticket in tickets:
        if ticket.external_id is None and ticket.start_at and ticket.start_at <= now:
            _send(ticket, now)
            ticket.save(update_fields=["external_id", "sent_at", "updated_at"])
    booked = Delivery.objects.filter(order=order).exists()
    if not booked and order.courier_at and order.courier_at <= now:
        _book_courier(order)
        booked = True
    if statuses == {TicketStatus.COOKED}:
        order_transition(order, OrderStatus.COOKED, "every part is cooked", batch=batch.events)
        return now
    if order.pickup_at and now >= order.pickup_at:
        cook = cook_estimates([t.restaurant for t in tickets])
        ready = max(max(t.sent_at or now, now - cook[t.restaurant_id]) + cook[t.restaurant_id]
                    for t in tickets if t.status != TicketStatus.COOKED)
        _judge_lateness(order, batch, expected_delivery(now, ready_at=ready,
                                                        courier=_courier(batch, order.delivery_provider)))
    return _cooking_next(order, tickets, booked=booked)


def _book_courier(order: Order) -> Delivery:
    """Ask the courier for a driver at the planned pickup (once: a delivery booked while cooking is
    the one the cooked order uses)."""
    delivery = Delivery.objects.filter(order=order).first()
    if delivery is None:
        delivery = Delivery(order=order, provider=order.delivery_provider, idempotency_key=f"delivery-{order.pk}",
                            updated_at=clock.now())
        delivery.external_id = courier_for(delivery.provider).request(  # before any write of ours
            delivery, pickup_at=order.pickup_at or clock.now())
        delivery.save()
    return delivery


def _request_driver(order: Order, batch: Batch):
    """Every part is cooked: the booked driver may take it (or one is asked for now; cooked before the
    courier's moment, it waits for that moment, so the food does not leave early)."""
    now = clock.now()
    if order.courier_at and now < order.courier_at:
        return order.courier_at
    delivery = _book_courier(order)
    courier_for(delivery.provider).food_ready(delivery)
    order_transition(order, OrderStatus.DRIVER_LOOKUP, "waiting for the driver", batch=batch.events)
    return _delivery_next(order, delivery, batch)


def _follow_delivery(order: Order, batch: Batch):
    delivery = order.delivery
    reported = courier_for(delivery.provider).status(delivery)
    if reported and reported != delivery.status:
        try:
            delivery = delivery_report(delivery=delivery, status=reported)
        except IllegalTransition:
            logger.warning("delivery %s: courier reported %s after %s; ignored", delivery.pk, reported, delivery.status)
    picked_up = delivery.status in (DeliveryStatus.PICKED_UP, DeliveryStatus.DELIVERED)
    if picked_up and order.status == OrderStatus.DRIVER_LOOKUP:
        order.tickets.filter(status__in=statuses_into(TICKET_TRANSITIONS, TicketStatus.PICKED_UP)).update(
            status=TicketStatus.PICKED_UP, updated_at=clock.now())
        order_transition(order, OrderStatus.DELIVERING, "the driver picked the food up", batch=batch.events)
    if delivery.status == DeliveryStatus.DELIVERED:
        order_transition(order, OrderStatus.DELIVERED, "delivered", batch=batch.events)
        return None
    if delivery.status == DeliveryStatus.FAILED:
        order_transition(order, OrderStatus.NOT_DELIVERED, "the courier could not deliver", batch=batch.events)
        return None
    return _delivery_next(order, delivery, batch)


def _delivery_next(order: Order, delivery: Delivery, batch: Batch):
    """A polled courier is asked again at the next moment something should happen (the pickup, the
    eta), then every ORDERS_POLL_SECONDS until it has; a pushing one is only looked at for lateness."""
    now = clock.now()
    picked_up = order.status == OrderStatus.DELIVERING
    margin = timedelta(seconds=settings.ORDERS_PLAN_MARGIN_SECONDS)
    due = order.eta - margin if picked_up else (order.pickup_at or now)  # when it should happen
    if now > due + 2 * margin:
        picked_up_at = delivery.updated_at if picked_up else None  # its last change was the pickup
        _judge_lateness(order, batch, expected_delivery(now, ready_at=None, picked_up_at=picked_up_at,
                                                        courier=_courier(batch, order.delivery_provider)))
    if delivery.provider == Order.DeliveryProvider.POLLED:
        return max(now + timedelta(seconds=settings.ORDERS_POLL_SECONDS), due)
    if order.pickup_at is None:
        return _later()
    return max(now + LATE_RECHECK, due + 2 * margin)


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
                        logger.warning("ticket %s: kitchen reported %s after %s; ignored",
                                       ticket.pk, status, ticket.status)
