"""fill_orders: restaurants with menus, customers and N orders over every status, past and coming
days, with items, tickets, deliveries and history consistent with each order's status. Written in
one transaction with COPY on PostgreSQL (ask.bulk), like fill_db."""
import hashlib
import random
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from ask.bulk import USER_COLUMNS, RowWriter, reserve_ids, user_row
from orders import clock
from orders.models import Dish, Restaurant

CUSTOMER_EMAIL_DOMAIN = "customers.example.com"
RESTAURANTS = [  # name, integration, opens, closes, dishes
    ("Pizzeria Napoli", "polled", time(10), time(23), ["Margherita", "Diavola", "Quattro formaggi", "Tiramisu"]),
    ("Sushi Kaito", "pushed", time(11), time(22), ["Salmon nigiri", "Maki set", "Miso soup", "Edamame"]),
    ("Curry House", "polled", time(11), time(23), ["Chicken tikka", "Dal tadka", "Naan", "Mango lassi"]),
    ("Green Bowl", "pushed", time(8), time(20), ["Quinoa bowl", "Falafel wrap", "Lentil soup", "Smoothie"]),
    ("Burger Lab", "polled", time(11), time(23, 59), ["Cheeseburger", "Veggie burger", "Fries", "Milkshake"]),
]
DELIVERED_PATH = ["not_started", "cooking", "cooked", "driver_lookup", "delivering", "delivered"]
PATHS = {  # status -> the statuses it went through
    "delivered": DELIVERED_PATH, "not_delivered": DELIVERED_PATH[:5] + ["not_delivered"],
    "cooking_rejected": ["not_started", "cooking", "cooking_rejected"], "cancelled": ["not_started", "cancelled"],
    "not_started": ["not_started"], **{s: DELIVERED_PATH[:i + 1] for i, s in enumerate(DELIVERED_PATH[1:5], 1)},
}
TICKET_STATUS = {"cooking": "cooking", "cooked": "cooked", "driver_lookup": "cooked", "delivering": "picked_up",
                 "delivered": "picked_up", "not_delivered": "picked_up", "cooking_rejected": "rejected"}
DELIVERY_STATUS = {"driver_lookup": "assigned", "delivering": "picked_up", "delivered": "delivered",
                   "not_delivered": "failed"}
REASONS = {"not_started": "placed", "cooking": "tickets sent", "cooked": "every restaurant has cooked its part",
           "driver_lookup": "driver requested", "delivering": "the driver picked the food up", "delivered": "delivered",
           "not_delivered": "the courier could not deliver", "cooking_rejected": "a restaurant rejected its part",
           "cancelled": "cancelled by the customer"}


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
                                 "sim_cook_seconds": 90})
        if created:
            Dish.objects.bulk_create([Dish(restaurant=restaurant, name=dish, price=Decimal(f"{6 + i * 2.5:.2f}"))
                                      for i, dish in enumerate(dishes)])
        made.append(restaurant)
    return made


def _status_for(rng: random.Random, eta, now) -> str:
    if eta > now + timedelta(minutes=settings.ORDERS_LEAD_MINUTES):
        return "not_started"
    if eta > now - timedelta(minutes=30):  # around now: somewhere on the way
        return rng.choice(["cooking", "cooked", "driver_lookup", "delivering"])
    return rng.choices(["delivered", "cancelled", "cooking_rejected", "not_delivered"], weights=[88, 6, 3, 3])[0]


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
            users.write(user_row(pk, f"customer.{pk}@{CUSTOMER_EMAIL_DOMAIN}", f"customer_{pk}", now - timedelta(days=60)))
        result.customers = users.close()

        order_ids = reserve_ids("orders_order", count)
        writers = {
            "order": RowWriter("orders_order", ["id", "customer_id", "eta", "status", "total", "address", "delivery_provider",
                                                "created_at", "next_check_at", "delayed_minutes", "delivered_at"], progress),
            "item": RowWriter("orders_orderitem", ["order_id", "dish_id", "quantity", "price"], progress),
            "event": RowWriter("orders_orderevent", ["order_id", "from_status", "to_status", "at", "reason"], progress),
            "ticket": RowWriter("orders_ticket", ["order_id", "restaurant_id", "status", "idempotency_key", "external_id",
                                                  "updated_at"], progress),
            "delivery": RowWriter("orders_delivery", ["order_id", "provider", "status", "idempotency_key", "external_id",
                                                      "updated_at"], progress),
            "sim_ticket": RowWriter("orders_simkitchenticket", ["restaurant_id", "idempotency_key", "external_id",
                                                                "received_at", "rejected"]),
            "sim_delivery": RowWriter("orders_simdeliveryjob", ["idempotency_key", "external_id", "received_at", "fails"]),
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
    late = rng.choice([0, 0, 0, rng.randint(1, 40)]) if status in ("delivered", "not_delivered") else 0
    times = {"not_started": placed, "cooking": eta - timedelta(minutes=45), "cooked": eta - timedelta(minutes=rng.randint(15, 30)),
             "cancelled": min(placed + timedelta(minutes=5), eta)}
    times["driver_lookup"] = times["cooked"]
    times["delivering"] = times["cooked"] + timedelta(minutes=2)
    times["delivered"] = times["not_delivered"] = eta + timedelta(minutes=late)
    times["cooking_rejected"] = times["cooking"] + timedelta(minutes=3)
    path = PATHS[status]
    final = status in ("delivered", "cancelled", "cooking_rejected", "not_delivered")
    if not final and eta < now:
        late = int((now - eta).total_seconds() // 60) + 1
    provider = rng.choice(["polled", "polled", "pushed"])
    out["order"].write((pk, customer_id, eta, status, total, f"{rng.randint(1, 200)} Demo Street", provider, placed,
                        None if final else now, late, times["delivered"] if status == "delivered" else None))
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
            out["ticket"].write((pk, restaurant.pk, TICKET_STATUS[status], key, external, min(times["cooking"], now)))
            out["sim_ticket"].write((restaurant.pk, key, external, min(times["cooking"], now), status == "cooking_rejected"))
    if status in DELIVERY_STATUS:
        key = f"delivery-{pk}"
        external = "D-" + hashlib.sha256(key.encode()).hexdigest()[:12]
        out["delivery"].write((pk, provider, DELIVERY_STATUS[status], key, external, min(times["driver_lookup"], now)))
        out["sim_delivery"].write((key, external, min(times["driver_lookup"], now), status == "not_delivered"))




def staff_add(email: str) -> None:
    """Put a user on the staff of every restaurant that pushes (the demo's kitchen pages)."""
    from django.core.management.base import CommandError

    from accounts.models import User

    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise CommandError(f"No user with the e-mail address {email!r}.")
    for restaurant in restaurants_ensure():
        if restaurant.integration == Restaurant.Integration.PUSHED:
            restaurant.staff.add(user)
