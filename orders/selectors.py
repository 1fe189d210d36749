"""Reads of food ordering, with their joins decided once here."""
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from orders.models import Order, Restaurant, Ticket
from orders.states import OrderStatus, TicketStatus

MY_ORDERS_SHOWN = 50  # the customer's latest orders on "My orders"


def menu() -> QuerySet[Restaurant]:
    """Every restaurant with its dishes, by name (the menu page; its fragment is cached)."""
    return Restaurant.objects.prefetch_related("dishes").order_by("name")


def orders_of(customer: User) -> QuerySet[Order]:
    """The customer's latest orders, newest first (index orders_order_customer)."""
    return Order.objects.filter(customer=customer).order_by("-created_at")[:MY_ORDERS_SHOWN]


def order_of(customer: User) -> QuerySet[Order]:
    """The customer's orders with what their page shows: items and history (another's is not found)."""
    return Order.objects.prefetch_related("items__dish__restaurant", "events").filter(customer=customer)


def kitchen_tickets(restaurant: Restaurant) -> QuerySet[Ticket]:
    """A kitchen's tickets of orders still on their way to the driver, with the items they list."""
    return (restaurant.tickets.select_related("order").prefetch_related("order__items__dish")
            .filter(order__status__in=[OrderStatus.COOKING, OrderStatus.COOKED, OrderStatus.DRIVER_LOOKUP]))


def kitchen_ordered(restaurant: Restaurant, *, shown: int) -> list[Order]:
    """Orders placed ahead with a part for this kitchen, not started yet (their tickets are made at
    the first kitchen's start): what the kitchen can plan for, soonest pickup first."""
    return list(Order.objects.filter(status=OrderStatus.NOT_STARTED, items__dish__restaurant=restaurant).distinct()
                .prefetch_related("items__dish").order_by("pickup_at", "eta")[:shown])


def kitchen_done(restaurant: Restaurant, *, since: datetime, shown: int) -> list[Ticket]:
    """A kitchen's latest finished tickets (picked up or rejected), newest first."""
    return list(restaurant.tickets.select_related("order")
                .filter(status__in=[TicketStatus.PICKED_UP, TicketStatus.REJECTED], updated_at__gte=since)
                .order_by("-updated_at")[:shown])
