"""Writes of the orders domain: placing and cancelling orders, status changes with their history,
and the reports restaurants and couriers send (webhooks, staff pages, polling)."""
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.timezones import member_zone
from ask.core.outbox import mail_queue
from ask.core.tokens import token_hash, token_new
from orders import clock
from orders.cache_keys import MENU_DATA
from orders.models import Delivery, Dish, Order, OrderEvent, OrderItem, Restaurant, Ticket
from orders.money import delivery_fee
from orders.planning import CourierEstimate, cook_estimates, earliest_eta, plan_backward
from orders.providers import courier_for
from orders.states import (
    DELIVERY_TRANSITIONS,
    ORDER_TRANSITIONS,
    TICKET_TRANSITIONS,
    OrderStatus,
    TicketStatus,
    check_transition,
)
from orders.wakeup import orders_notify


class OrderRefused(Exception):
    """An order that cannot be placed as asked; the message says why, field which input it is about
    (None: the cart as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def order_transition(order: Order, to: str, reason: str, *, batch: list | None = None) -> None:
    """Move a locked order to a new status and record it; raises IllegalTransition otherwise.

    With batch (the processor's), the history row is appended to it and the order is left for the
    caller to save, so a pass writes each table once instead of once per order.
    """
    check_transition(ORDER_TRANSITIONS, order.status, to, f"order {order.pk}")
    now = clock.now()
    event = OrderEvent(order=order, from_status=order.status, to_status=to, at=now, reason=reason)
    order.status = to
    fields = ["status"]
    if to not in ORDER_TRANSITIONS:  # final
        order.next_check_at = None
        fields.append("next_check_at")
    if to == OrderStatus.DELIVERED:
        order.delivered_at = now
        order.delayed_minutes = minutes_late(order.eta, now)
        fields += ["delivered_at", "delayed_minutes"]
    if batch is None:
        event.save()
        order.save(update_fields=fields)
    else:
        batch.append(event)
    if to in (OrderStatus.COOKED, OrderStatus.DELIVERED):
        _status_mail_queue(order)


def minutes_late(eta: datetime, at: datetime) -> int:
    return max(0, math.ceil((at - eta).total_seconds() / 60))


def _status_mail_queue(order: Order, template: str = "status") -> None:
    context = {"order": order, "customer": order.customer,
               "order_url": settings.ASK_SITE_URL + reverse("orders:order", args=[order.pk])}
    with timezone.override(member_zone(order.customer)):  # the customer's times, wherever it is sent from
        mail_queue(to=order.customer.email,
                   subject=render_to_string(f"orders/email/{template}_subject.txt", context).strip(),
                   body=render_to_string(f"orders/email/{template}.txt", context))


def late_mail_queue(order: Order) -> None:
    """Tell the customer the order is running late, with its new estimate (order.expected_at)."""
    _status_mail_queue(order, "late")


def menu_invalidate() -> None:
    """Drop the cached menu once the current transaction commits: every write to restaurants or
    dishes calls it (these services, the admin, imports, fill_orders)."""
    transaction.on_commit(lambda: cache.delete(MENU_DATA))


def dish_update(*, dish: Dish, **changes) -> Dish:
    """Change a dish's fields (name, price, available); the menu shows it at once."""
    with transaction.atomic():
        for name, value in changes.items():
            setattr(dish, name, value)
        dish.save(update_fields=list(changes))
        menu_invalidate()
    return dish


def restaurant_is_open(restaurant: Restaurant, at: datetime) -> bool:
    """Opening hours are the restaurant's local times: the site's zone (TIME_ZONE), whoever asks."""
    local = at.astimezone(timezone.get_default_timezone()).time()
    return restaurant.opens_at <= local <= restaurant.closes_at


def closed_for(restaurants, eta: datetime, cook: dict, courier: CourierEstimate) -> list[str]:
    """The restaurants that could not make their part for this delivery time: closed at the time
    itself, or when their kitchen would have to start (a slot at opening time would cook before it)."""
    starts = plan_backward(eta, cook, courier).starts
    return sorted({r.name for r in restaurants
                   if not (restaurant_is_open(r, eta) and restaurant_is_open(r, starts.get(r.pk, eta)))})


def order_place(*, customer: User, cart: dict[int, int], eta: datetime, address: str) -> Order:
    """Place an order of {dish id: quantity}; raises OrderRefused naming what is wrong."""
    now = clock.now()
    if not cart:
        raise OrderRefused("The cart is empty.")
    if eta < now + timedelta(minutes=settings.ORDERS_MIN_NOTICE_MINUTES):
        raise OrderRefused(f"Choose a delivery time at least {settings.ORDERS_MIN_NOTICE_MINUTES} minutes from now.",
                           field="eta")
    if eta > now + timedelta(days=settings.ORDERS_MAX_DAYS_AHEAD):
        raise OrderRefused(f"Choose a delivery time within the next {settings.ORDERS_MAX_DAYS_AHEAD} days.",
                           field="eta")
    with transaction.atomic():
        dishes = {d.pk: d for d in Dish.objects.select_related("restaurant").filter(pk__in=cart, available=True)}
        missing = set(cart) - set(dishes)
        if missing:
            raise OrderRefused("Some dishes are no longer available; please check your cart.")
        restaurants = {d.restaurant for d in dishes.values()}
        cook, courier = order_estimates(restaurants)
        closed = closed_for(restaurants, eta, cook, courier)
        if closed:
            raise OrderRefused(f"Not open at that time: {', '.join(closed)}.", field="eta")
        first_step = _first_step(now, eta, cook, courier)
        fee = delivery_fee()
        total = sum((dishes[pk].price * qty for pk, qty in cart.items()), fee)
        order = Order.objects.create(customer=customer, eta=eta, total=total, delivery_fee=fee, address=address,
                                     created_at=now, urgent=True, next_check_at=max(now, first_step))
        OrderItem.objects.bulk_create([OrderItem(order=order, dish=dishes[pk], quantity=qty, price=dishes[pk].price)
                                       for pk, qty in sorted(cart.items())])
        OrderEvent.objects.create(order=order, from_status="", to_status=OrderStatus.NOT_STARTED, at=now,
                                  reason="placed")
        orders_notify()  # a processor waiting past this order's due time learns of it on commit
    return order


def order_estimates(restaurants) -> tuple[dict, CourierEstimate]:
    """The estimates a new order is planned with: each restaurant's cooking time and the courier's
    (placing an order, and the slots checkout offers)."""
    cook = cook_estimates(sorted(restaurants, key=lambda r: r.pk))
    return cook, courier_for(Order.DeliveryProvider.POLLED).estimate()


def _first_step(now: datetime, eta: datetime, cook: dict, courier: CourierEstimate) -> datetime:
    """When the processor is first needed for an order (orders.planning); refuses an eta no plan
    started now can keep, naming the earliest one that can."""
    earliest = earliest_eta(now, cook, courier)
    if eta < earliest:
        shown = timezone.localtime(earliest + timedelta(seconds=59))  # the next whole minute, the reader's zone
        raise OrderRefused(f"The earliest delivery time for this order is {shown:%H:%M} {shown.tzname()}.",
                           field="eta")
    return plan_backward(eta, cook, courier).first_step_at


def order_cancel(*, order: Order, user: User) -> None:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk, customer=user)
        if order.status == OrderStatus.CANCELLED:
            raise OrderRefused("This order is already cancelled.")
        if order.status != OrderStatus.NOT_STARTED:
            raise OrderRefused("Cooking has started; the order can no longer be cancelled.")
        order_transition(order, OrderStatus.CANCELLED, "cancelled by the customer")


def ticket_report(*, ticket: Ticket, status: str, reason: str) -> Ticket:
    """A restaurant says where a ticket is (webhook, staff page, or polling); the order is looked at
    at once. Raises IllegalTransition for a change the ticket cannot make. Repeating is a no-op."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == status:
            return ticket
        check_transition(TICKET_TRANSITIONS, ticket.status, status, f"ticket {ticket.pk}")
        ticket.status, ticket.updated_at = status, clock.now()
        if status == TicketStatus.COOKED:
            ticket.cooked_at = ticket.updated_at  # with sent_at: what the next estimates learn from
        ticket.save(update_fields=["status", "updated_at", "cooked_at"])
        Order.objects.filter(pk=ticket.order_id, status=OrderStatus.COOKING).update(next_check_at=clock.now(),
                                                                                    urgent=True)
        orders_notify()
    return ticket


def delivery_report(*, delivery: Delivery, status: str) -> Delivery:
    """The courier says where a delivery is; the order follows on the processor's next pass."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == status:
            return delivery
        check_transition(DELIVERY_TRANSITIONS, delivery.status, status, f"delivery {delivery.pk}")
        delivery.status, delivery.updated_at = status, clock.now()
        delivery.save(update_fields=["status", "updated_at"])
        Order.objects.filter(pk=delivery.order_id).exclude(next_check_at=None).update(next_check_at=clock.now(),
                                                                                      urgent=True)
        orders_notify()
    return delivery


def restaurant_token_issue(*, restaurant: Restaurant) -> str:
    """A new webhook token for the restaurant, returned once; only its hash is kept, the old one stops."""
    token = token_new()
    restaurant.webhook_token_hash = token_hash(token)
    restaurant.save(update_fields=["webhook_token_hash"])
    return token
