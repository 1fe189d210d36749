"""Statuses of orders, restaurant tickets and deliveries, and the one table of allowed transitions."""
from django.db import models


class OrderStatus(models.TextChoices):
    NOT_STARTED = "not_started", "not started"  # placed; no restaurant has it yet
    COOKING = "cooking"  # tickets sent to every restaurant of the order
    COOKED = "cooked"  # every restaurant has cooked its part
    DRIVER_LOOKUP = "driver_lookup", "looking for a driver"  # a delivery was requested
    DELIVERING = "delivering"  # a driver picked the food up
    DELIVERED = "delivered"  # handed to the customer (final)
    COOKING_REJECTED = "cooking_rejected", "rejected by a restaurant"  # a restaurant refused (final)
    NOT_DELIVERED = "not_delivered", "not delivered"  # the delivery failed (final)
    CANCELLED = "cancelled"  # by the customer before cooking, or the ETA passed first (final)


class TicketStatus(models.TextChoices):
    NOT_STARTED = "not_started", "not started"  # sent, the kitchen has not begun
    COOKING = "cooking"
    COOKED = "cooked"  # ready for pick-up
    PICKED_UP = "picked_up", "picked up"  # the driver has it (final)
    REJECTED = "rejected"  # the kitchen refused it (final)


class DeliveryStatus(models.TextChoices):
    REQUESTED = "requested"  # asked the provider for a driver
    ASSIGNED = "assigned"  # a driver is on the way to the restaurants
    PICKED_UP = "picked_up", "picked up"  # the driver has the food
    DELIVERED = "delivered"  # handed over (final)
    FAILED = "failed"  # could not deliver (final)


ORDER_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.NOT_STARTED: {OrderStatus.COOKING, OrderStatus.CANCELLED},
    OrderStatus.COOKING: {OrderStatus.COOKED, OrderStatus.COOKING_REJECTED},
    OrderStatus.COOKED: {OrderStatus.DRIVER_LOOKUP},
    OrderStatus.DRIVER_LOOKUP: {OrderStatus.DELIVERING, OrderStatus.NOT_DELIVERED},
    OrderStatus.DELIVERING: {OrderStatus.DELIVERED, OrderStatus.NOT_DELIVERED},
}
TICKET_TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.NOT_STARTED: {TicketStatus.COOKING, TicketStatus.COOKED, TicketStatus.REJECTED},
    TicketStatus.COOKING: {TicketStatus.COOKED, TicketStatus.REJECTED},
    TicketStatus.COOKED: {TicketStatus.PICKED_UP},
}
DELIVERY_TRANSITIONS: dict[str, set[str]] = {
    DeliveryStatus.REQUESTED: {DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP, DeliveryStatus.DELIVERED,
                               DeliveryStatus.FAILED},
    DeliveryStatus.ASSIGNED: {DeliveryStatus.PICKED_UP, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED},
    DeliveryStatus.PICKED_UP: {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED},
}
ACTIVE_ORDER_STATUSES = set(ORDER_TRANSITIONS)


class IllegalTransition(Exception):
    """A status change the tables above do not allow."""


def check_transition(table: dict[str, set[str]], current: str, new: str, what: str) -> None:
    if new not in table.get(current, set()):
        raise IllegalTransition(f"{what} cannot go from {current} to {new}")


def statuses_into(table: dict[str, set[str]], new: str) -> set[str]:
    """The statuses the table lets go to new (e.g. which tickets a driver can pick up)."""
    return {current for current, allowed in table.items() if new in allowed}
