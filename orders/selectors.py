"""Reads of food ordering, with their joins decided once here."""
from django.db.models import QuerySet

from accounts.models import User
from orders.models import Order, Restaurant, Ticket
from orders.states import TicketStatus

MY_ORDERS_SHOWN = 50  # the customer's latest orders on "My orders"
OPEN_TICKET_STATUSES = [TicketStatus.NOT_STARTED, TicketStatus.COOKING, TicketStatus.COOKED]


def menu() -> QuerySet[Restaurant]:
    """Every restaurant with its dishes, by name (the menu page; its fragment is cached)."""
    return Restaurant.objects.prefetch_related("dishes").order_by("name")


def orders_of(customer: User) -> QuerySet[Order]:
    """The customer's latest orders, newest first (index orders_order_customer)."""
    return Order.objects.filter(customer=customer).order_by("-created_at")[:MY_ORDERS_SHOWN]


def order_of(customer: User) -> QuerySet[Order]:
    """The customer's orders with what their page shows: items and history (another's is not found)."""
    return Order.objects.prefetch_related("items__dish", "events").filter(customer=customer)


def open_tickets(restaurant: Restaurant) -> QuerySet[Ticket]:
    """What a kitchen still has to do, soonest delivery first."""
    return (restaurant.tickets.filter(status__in=OPEN_TICKET_STATUSES).select_related("order")
            .prefetch_related("order__items__dish").order_by("order__eta"))
