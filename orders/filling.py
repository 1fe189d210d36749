"""fill_orders: restaurants with menus, customers and N orders over every status, past and coming
days, with items, tickets, deliveries and history consistent with each order's status. Written in
one transaction with COPY on PostgreSQL (ask.core.bulk), like fill_db."""
import hashlib
import random
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

from django.db import transaction

from accounts.bulk import USER_COLUMNS, user_row
from accounts.models import User
from ask.core.bulk import RowWriter, reserve_ids
from orders import clock
from orders.models import Dish, Order, Restaurant
from orders.services import menu_invalidate
from orders.states import DeliveryStatus, OrderStatus, TicketStatus

CUSTOMER_EMAIL_DOMAIN = "customers.example.com"
O, T, D = OrderStatus, TicketStatus, DeliveryStatus
POLLED, PUSHED = Restaurant.Integration.POLLED, Restaurant.Integration.PUSHED
RESTAURANTS = [  # name, integration, opens, closes, dishes
    ("Pizzeria Napoli", POLLED, time(10), time(23), ["Margherita", "Diavola", "Quattro formaggi", "Tiramisu"]),
    ("Sushi Kaito", PUSHED, time(11), time(22), ["Salmon nigiri", "Maki set", "Miso soup", "Edamame"]),
    ("Curry House", POLLED, time(11), time(23), ["Chicken tikka", "Dal tadka", "Naan", "Mango lassi"]),
    ("Green Bowl", PUSHED, time(8), time(20), ["Quinoa bowl", "Falafel wrap", "Lentil soup", "Smoothie"]),
    ("Burger Lab", POLLED, time(11), time(23, 59), ["Cheeseburger", "Veggie burger", "Fries", "Milkshake"]),
]
DESCRIPTIONS = {
    "Margherita": "Tomato, mozzarella, basil.", "Diavola": "Tomato, mozzarella, spicy salami.",
    "Quattro formaggi": "Mozzarella, gorgonzola, fontina, parmesan.", "Tiramisu": "Mascarpone, coffee, cocoa.",
    "Salmon nigiri": "Four pieces.", "Maki set": "Twelve pieces: salmon, tuna, cucumber.",
    "Miso soup": "Tofu, wakame, spring onion.", "Edamame": "Steamed, with sea salt.",
    "Chicken tikka": "With rice.", "Dal tadka": "Yellow lentils, cumin, garlic; with rice.",
    "Naan": "From the tandoor, buttered.", "Mango lassi": "Yoghurt, mango.",
    "Quinoa bowl": "Quinoa, roast vegetables, tahini.", "Falafel wrap": "Hummus, pickles, salad.",
    "Lentil soup": "Red lentils, lemon.", "Smoothie": "Banana, berries, oat milk.",
    "Cheeseburger": "Beef, cheddar, pickles.", "Veggie burger": "Black bean patty, avocado.",
    "Fries": "Hand-cut, sea salt.", "Milkshake": "Vanilla, chocolate or strawberry.",
}
DELIVERED_PATH = [O.NOT_STARTED, O.COOKING, O.COOKED, O.DRIVER_LOOKUP, O.DELIVERING, O.DELIVERED]
PATHS = {  # status -> the statuses it went through
    O.DELIVERED: DELIVERED_PATH, O.NOT_DELIVERED: DELIVERED_PATH[:5] + [O.NOT_DELIVERED],
    O.COOKING_REJECTED: [O.NOT_STARTED, O.COOKING, O.COOKING_REJECTED], O.CANCELLED: [O.NOT_STARTED, O.CANCELLED],
    O.NOT_STARTED: [O.NOT_STARTED], **{s: DELIVERED_PATH[:i + 1] for i, s in enumerate(DELIVERED_PATH[1:5], 1)},
}
NOT_YET_COOKING = timedelta(minutes=60)  # orders due further ahead are made not started
FINAL = {O.DELIVERED, O.CANCELLED, O.COOKING_REJECTED, O.NOT_DELIVERED}
TICKET_STATUS = {O.COOKING: T.COOKING, O.COOKED: T.COOKED, O.DRIVER_LOOKUP: T.COOKED, O.DELIVERING: T.PICKED_UP,
                 O.DELIVERED: T.PICKED_UP, O.NOT_DELIVERED: T.PICKED_UP, O.COOKING_REJECTED: T.REJECTED}
DELIVERY_STATUS = {O.DRIVER_LOOKUP: D.ASSIGNED, O.DELIVERING: D.PICKED_UP, O.DELIVERED: D.DELIVERED,
                   O.NOT_DELIVERED: D.FAILED}
REASONS = {O.NOT_STARTED: "placed", O.COOKING: "tickets sent", O.COOKED: "every restaurant has cooked its part",
           O.DRIVER_LOOKUP: "driver requested", O.DELIVERING: "the driver picked the food up",
           O.DELIVERED: "delivered", O.NOT_DELIVERED: "the courier could not deliver",
           O.COOKING_REJECTED: "a restaurant rejected its part", O.CANCELLED: "cancelled by the customer"}


@dataclass
class OrdersFillResult:
    restaurants: int = 0
    customers: int = 0
    orders: int = 0
    rows: int = 0


def restaurants_ensure() -> list[Restaurant]:
    """The demo restaurants and menus (created once; existing ones are kept as they are)."""
    made = []
    for name, integration, opens, closes, dishes in RESTAURANTS:
        slug = name.lower().replace(" ", "-")
        restaurant, created = Restaurant.objects.get_or_create(
            slug=slug, defaults={"name": name, "integration": integration, "opens_at": opens, "closes_at": closes,
                                 "cook_minutes": 12, "sim_cook_seconds": 660})
        if created:
            Dish.objects.bulk_create([Dish(restaurant=restaurant, name=dish, description=DESCRIPTIONS.get(dish, ""),
                                           price=Decimal(f"{6 + i * 2.5:.2f}")) for i, dish in enumerate(dishes)])
            menu_invalidate()
        made.append(restaurant)
    return made


def _status_for(rng: random.Random, eta, now) -> str:
    if eta > now + NOT_YET_COOKING:
        return O.NOT_STARTED
    if eta > now - timedelta(minutes=30):  # around now: somewhere on the way
        return rng.choice([O.COOKING, O.COOKED, O.DRIVER_LOOKUP, O.DELIVERING])
    return rng.choices([O.DELIVERED, O.CANCELLED, O.COOKING_REJECTED, O.NOT_DELIVERED], weights=[88, 6, 3, 3])[0]


def orders_fill(*, count: int, seed: int | None = None, progress=None) -> OrdersFillResult:
    rng = random.Random(seed)
    now = clock.now()
    result = OrdersFillResult()
    with transaction.atomic():
        restaurants = restaurants_ensure()
        result.restaurants = len(restaurants)
        menu = list(Dish.objects.filter(restaurant__in=restaurants, available=True).select_related("restaurant"))
        n_customers = max(5, count // 20)
        customer_ids = reserve_ids("accounts_user", n_customers)
        users = RowWriter("accounts_user", USER_COLUMNS, progress)
        for pk in customer_ids:
            joined = now - timedelta(days=60)
            users.write(user_row(pk, f"customer.{pk}@{CUSTOMER_EMAIL_DOMAIN}", f"customer_{pk}", joined))
        result.customers = users.close()

        order_ids = reserve_ids("orders_order", count)
        writers = {
            "order": RowWriter("orders_order", ["id", "customer_id", "eta", "status", "total", "address",
                                                "delivery_provider", "created_at", "next_check_at", "delayed_minutes",
                                                "delivered_at"], progress),
            "item": RowWriter("orders_orderitem", ["order_id", "dish_id", "quantity", "price"], progress),
            "event": RowWriter("orders_orderevent", ["order_id", "from_status", "to_status", "at", "reason"], progress),
            "ticket": RowWriter("orders_ticket", ["order_id", "restaurant_id", "status", "idempotency_key",
                                                  "external_id",
                                                  "updated_at"], progress),
            "delivery": RowWriter("orders_delivery", ["order_id", "provider", "status", "idempotency_key",
                                                      "external_id",
                                                      "updated_at"], progress),
            "sim_ticket": RowWriter("orders_simkitchenticket", ["restaurant_id", "idempotency_key", "external_id",
                                                                "received_at", "rejected"]),
            "sim_delivery": RowWriter("orders_simdeliveryjob",
                                      ["idempotency_key", "external_id", "received_at", "fails"]),
        }
        for pk in order_ids:
            _order_rows(rng, pk, rng.choice(customer_ids), menu, now, writers)
        for writer in writers.values():
            result.rows += writer.close()
        result.orders = count
    return result


def _order_rows(rng, pk, customer_id, menu, now, out) -> None:
    if rng.random() < 0.06:  # some on their way right now, for the processor to carry on with
        eta = now + timedelta(minutes=rng.randint(-25, 40))
    else:
        eta = now + timedelta(minutes=rng.randint(-30 * 24 * 60, 3 * 24 * 60))
    eta = eta.replace(second=0, microsecond=0)
    status = _status_for(rng, eta, now)
    dishes = rng.sample(menu, rng.randint(1, 3))
    items = [(dish, rng.randint(1, 3)) for dish in dishes]
    total = sum((dish.price * qty for dish, qty in items), Decimal("0.00"))
    placed = min(eta - timedelta(minutes=rng.randint(60, 48 * 60)), now - timedelta(minutes=rng.randint(1, 600)))
    late = rng.choice([0, 0, 0, rng.randint(1, 40)]) if status in (O.DELIVERED, O.NOT_DELIVERED) else 0
    times = {O.NOT_STARTED: placed, O.COOKING: eta - timedelta(minutes=45),
             O.COOKED: eta - timedelta(minutes=rng.randint(15, 30)),
             O.CANCELLED: min(placed + timedelta(minutes=5), eta)}
    times[O.DRIVER_LOOKUP] = times[O.COOKED]
    times[O.DELIVERING] = times[O.COOKED] + timedelta(minutes=2)
    times[O.DELIVERED] = times[O.NOT_DELIVERED] = eta + timedelta(minutes=late)
    times[O.COOKING_REJECTED] = times[O.COOKING] + timedelta(minutes=3)
    path = PATHS[status]
    final = status in FINAL
    if not final and eta < now:
        late = int((now - eta).total_seconds() // 60) + 1
    provider = rng.choice([Order.DeliveryProvider.POLLED] * 2 + [Order.DeliveryProvider.PUSHED])
    out["order"].write((pk, customer_id, eta, status, total, f"{rng.randint(1, 200)} Demo Street", provider, placed,
                        None if final else now, late, times[O.DELIVERED] if status == O.DELIVERED else None))
    for dish, qty in items:
        out["item"].write((pk, dish.pk, qty, dish.price))
    previous = ""
    for step in path:
        out["event"].write((pk, previous, step, min(times[step], now), REASONS[step]))
        previous = step
    if status in TICKET_STATUS:
        for restaurant in sorted({dish.restaurant for dish, _ in items}, key=lambda r: r.pk):
            key = f"ticket-{pk}-{restaurant.pk}"
            external = "K-" + hashlib.sha256(key.encode()).hexdigest()[:12]
            out["ticket"].write((pk, restaurant.pk, TICKET_STATUS[status], key, external, min(times[O.COOKING], now)))
            out["sim_ticket"].write((restaurant.pk, key, external, min(times[O.COOKING], now),
                                     status == O.COOKING_REJECTED))
    if status in DELIVERY_STATUS:
        key = f"delivery-{pk}"
        external = "D-" + hashlib.sha256(key.encode()).hexdigest()[:12]
        out["delivery"].write((pk, provider, DELIVERY_STATUS[status], key, external, min(times[O.DRIVER_LOOKUP], now)))
        out["sim_delivery"].write((key, external, min(times[O.DRIVER_LOOKUP], now), status == O.NOT_DELIVERED))



class NoSuchUser(LookupError):
    """fill_orders --staff names an address no user has."""


def staff_add(email: str) -> None:
    """Put a user on the staff of every restaurant that pushes (the demo's kitchen pages)."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise NoSuchUser(f"No user with the e-mail address {email!r}.")
    for restaurant in restaurants_ensure():
        if restaurant.integration == Restaurant.Integration.PUSHED:
            restaurant.staff.add(user)
