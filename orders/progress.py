"""What customers and kitchens read about an order: where it is, in words, from its history and plan.

Internal names ("driver_lookup", "tickets sent to 2 restaurant(s)") stay inside: the order page shows
a progress line ("Being prepared at Burger Lab and Pizzeria Napoli → Driver on the way → Delivered
21:58") and a timeline of sentences, and the kitchen page sorts its tickets by what is to be done.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orders import clock, selectors
from orders.models import Order, OrderEvent, Restaurant, Ticket
from orders.states import OrderStatus, TicketStatus

S = OrderStatus
FINAL_FAILURES = {S.CANCELLED: "Cancelled", S.COOKING_REJECTED: "Stopped: a restaurant could not take it",
                  S.NOT_DELIVERED: "The courier could not deliver it"}
DONE_SHOWN = 20  # a kitchen's latest finished tickets
ORDERED_SHOWN = 30  # orders placed ahead a kitchen sees
DONE_WITHIN = timedelta(hours=12)


@dataclass
class Step:
    label: str
    state: str  # "done", "current", "todo" or "failed"
    at: datetime | None = None


@dataclass
class Moment:
    at: datetime
    text: str
    late: bool = False


def names(restaurants: list[Restaurant]) -> str:
    """"Burger Lab", "Burger Lab and Pizzeria Napoli", "A, B and C"."""
    found = sorted({r.name for r in restaurants})
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1] if found else ""


def _restaurants(order: Order) -> list[Restaurant]:
    return [item.dish.restaurant for item in order.items.all()]


def _reached(events: list[OrderEvent]) -> dict[str, datetime]:
    return {event.to_status: event.at for event in events}


def steps(order: Order) -> list[Step]:
    """The progress line: placed → being prepared at … → driver on the way → delivered."""
    reached = _reached(list(order.events.all()))
    line = [Step("Placed", "done", order.created_at),
            Step(f"Being prepared at {names(_restaurants(order))}", "todo", reached.get(S.COOKING)),
            Step("Driver on the way", "todo", reached.get(S.DELIVERING)),
            Step("Delivered", "todo", reached.get(S.DELIVERED))]
    for step in line[1:]:
        if step.at is not None:
            step.state = "done"
    if order.status in FINAL_FAILURES:
        line = [step for step in line if step.state == "done"] + [Step(FINAL_FAILURES[order.status], "failed",
                                                                        reached.get(order.status))]
    elif order.status in CURRENT_STEP:  # only what is under way is marked; waiting between steps is not
        line[CURRENT_STEP[order.status]].state = "current"
    return line


CURRENT_STEP = {S.COOKING: 1, S.DELIVERING: 2}  # the progress line's step under way in that status


def headline(order: Order) -> str:
    """One sentence: where the order is now."""
    return {
        S.NOT_STARTED: "Order received: the kitchens start in time for your delivery",
        S.COOKING: f"Being prepared at {names(_restaurants(order))}",
        S.COOKED: "Cooked and packed: a driver is booked for the pickup",
        S.DRIVER_LOOKUP: "Ready: the driver is picking it up",
        S.DELIVERING: "Driver on the way",
        S.DELIVERED: "Delivered",
        S.CANCELLED: "Cancelled",
        S.COOKING_REJECTED: "Stopped: a restaurant could not take its part",
        S.NOT_DELIVERED: "The courier could not deliver the order",
    }[order.status]


SHORT = {  # an order's status in a list of orders (the order page says more: headline)
    S.NOT_STARTED: "Received", S.COOKING: "Being prepared", S.COOKED: "Cooked", S.DRIVER_LOOKUP: "Ready for pickup",
    S.DELIVERING: "Driver on the way", S.DELIVERED: "Delivered", S.CANCELLED: "Cancelled",
    S.COOKING_REJECTED: "Stopped", S.NOT_DELIVERED: "Not delivered",
}


KITCHEN_WORDS = {TicketStatus.NOT_STARTED: "starts soon", TicketStatus.COOKING: "cooking",
                 TicketStatus.COOKED: "ready", TicketStatus.PICKED_UP: "picked up",
                 TicketStatus.REJECTED: "could not take its part"}


def kitchens(order: Order) -> list[tuple[str, str]]:
    """While the food is being prepared, each kitchen's part in words: ("Wok Shop", "cooking")."""
    if order.status not in (S.COOKING, S.COOKED):
        return []
    return [(ticket.restaurant.name, KITCHEN_WORDS[ticket.status])
            for ticket in order.tickets.select_related("restaurant").order_by("restaurant__name")]


def in_short(order: Order) -> str:
    return SHORT[order.status]


def _sentence(order: Order, event: OrderEvent) -> str:
    if event.to_status == S.CANCELLED:
        return ("You cancelled the order" if "customer" in event.reason
                else "Cancelled: the delivery time passed before cooking could start")
    return {
        S.NOT_STARTED: "Order placed",
        S.COOKING: f"Being prepared at {names(_restaurants(order))}",
        S.COOKED: "Every part is cooked and packed",
        S.DRIVER_LOOKUP: "Ready for the driver",
        S.DELIVERING: "The driver picked up your food",
        S.DELIVERED: "Delivered",
        S.COOKING_REJECTED: "A restaurant could not take its part; the order was stopped",
        S.NOT_DELIVERED: "The courier could not deliver the order",
    }.get(event.to_status, event.to_status)


def timeline(order: Order) -> list[Moment]:
    """Every change in a sentence, and the moment the order was found to run late."""
    moments = [Moment(event.at, _sentence(order, event)) for event in order.events.all()]
    if order.late_at and order.expected_at:
        moments.append(Moment(order.late_at, "Running late: now expected around", late=True))
    return sorted(moments, key=lambda moment: moment.at)


@dataclass
class Board:
    """A kitchen's tickets by what is to be done, soonest first."""

    to_cook: list[Ticket] = field(default_factory=list)
    ready: list[Ticket] = field(default_factory=list)  # cooked, waiting for the driver
    coming: list[Ticket] = field(default_factory=list)  # planned: sent to the kitchen at their start
    ordered: list[Order] = field(default_factory=list)  # placed ahead, no kitchen started yet (.own_items)
    done: list[Ticket] = field(default_factory=list)  # picked up or rejected lately

    @property
    def coming_count(self) -> int:
        return len(self.coming) + len(self.ordered)


def ready_by(ticket: Ticket) -> datetime:
    return ticket.order.pickup_at or ticket.order.eta


def kitchen_board(restaurant: Restaurant) -> Board:
    """The kitchen page: each open ticket with .late (not cooked by its pickup) and .ready_by."""
    now, board = clock.now(), Board()
    for ticket in selectors.kitchen_tickets(restaurant):
        ticket.ready_by = ready_by(ticket)
        ticket.late = ticket.status in (TicketStatus.NOT_STARTED, TicketStatus.COOKING) and now > ticket.ready_by
        ticket.own_items = [item for item in ticket.order.items.all() if item.dish.restaurant_id == restaurant.pk]
        if ticket.external_id is None:
            board.coming.append(ticket)
        elif ticket.status == TicketStatus.COOKED:
            board.ready.append(ticket)
        elif ticket.status in (TicketStatus.NOT_STARTED, TicketStatus.COOKING):
            board.to_cook.append(ticket)
    for group in (board.to_cook, board.ready):
        group.sort(key=lambda t: t.ready_by)
    board.coming.sort(key=lambda t: t.start_at or t.ready_by)
    board.done = selectors.kitchen_done(restaurant, since=now - DONE_WITHIN, shown=DONE_SHOWN)
    board.ordered = selectors.kitchen_ordered(restaurant, shown=ORDERED_SHOWN)
    for order in board.ordered:
        order.own_items = [item for item in order.items.all() if item.dish.restaurant_id == restaurant.pk]
    return board


def parts(order: Order) -> list[tuple[Restaurant, list]]:
    """Each restaurant's part of the order, by restaurant name: what the order page lists."""
    by_restaurant: dict[int, tuple[Restaurant, list]] = {}
    for item in order.items.all():
        restaurant = item.dish.restaurant
        by_restaurant.setdefault(restaurant.pk, (restaurant, []))[1].append(item)
    return sorted(by_restaurant.values(), key=lambda part: part[0].name)
