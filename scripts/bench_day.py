"""A simulated day of orders: does the food arrive at the chosen time? (scripts/bench day)

Twelve hours of customers on the orders clock, frozen and moved 20 s at a time: each step places the
orders that came in, syncs the kitchens each minute as cron does, and runs processor passes until
nothing is due. The simulated kitchens and courier vary every timing by BENCH_DAY_VARIATION percent
(default 20) either way, and the kitchens' true cooking times differ from their own estimates, so the
planner has to learn them. Prints the share delivered within ±5 minutes of the chosen time, the
median lateness, how often an order is looked at, and so how many in-flight orders one processor
can follow.
"""
import os
import random
import statistics
import time
from datetime import datetime, timedelta

DAY_HOURS, ORDERS_PER_HOUR, STEP = 12, 60, timedelta(seconds=20)
# name -> (its own estimate, the true time) in minutes: two kitchens slower than they think
KITCHENS = {"Pizzeria Napoli": (12, 11), "Sushi Kaito": (15, 14), "Curry House": (15, 24),
            "Green Bowl": (10, 9), "Burger Lab": (10, 17)}


def _setup() -> tuple[list, dict]:
    from django.db import connection

    from accounts.models import User
    from orders.filling import restaurants_ensure
    from orders.models import Dish, Restaurant

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_order, orders_simkitchenticket, orders_simdeliveryjob, orders_providercall"
                       " CASCADE")
    restaurants_ensure()
    for name, (estimate, true) in KITCHENS.items():
        Restaurant.objects.filter(name=name).update(integration="polled", cook_minutes=estimate,
                                                    sim_cook_seconds=true * 60)
    customers = [User.objects.get_or_create(email=f"day{i}@example.com", defaults={"display_name": f"day {i}"})[0]
                 for i in range(50)]
    dishes: dict = {}
    for dish in Dish.objects.select_related("restaurant"):
        dishes.setdefault(dish.restaurant, []).append(dish)
    return customers, dishes


def _place(rng: random.Random, now: datetime, customers: list, dishes: dict) -> bool:
    from orders.services import OrderRefused, order_place, restaurant_is_open

    eta = now + timedelta(minutes=rng.randrange(50, 180, 5))
    open_ones = [r for r in dishes if restaurant_is_open(r, eta)]
    if not open_ones:
        return False
    chosen = rng.sample(open_ones, min(len(open_ones), rng.choice([1, 1, 1, 2])))
    cart = {rng.choice(dishes[r]).pk: rng.randint(1, 3) for r in chosen}
    try:
        order_place(customer=rng.choice(customers), cart=cart, eta=eta, address="1 Day Street")
    except OrderRefused:
        return False
    return True


def _run_day(customers: list, dishes: dict) -> dict:
    from django.core.cache import cache
    from django.utils import timezone

    from orders import clock
    from orders.cache_keys import cook_estimate_key
    from orders.processing import orders_process_pass, restaurants_sync

    rng = random.Random(7)
    start = timezone.make_aware(datetime(2026, 12, 7, 10, 0))
    end, drain = start + timedelta(hours=DAY_HOURS), start + timedelta(hours=DAY_HOURS + 4)
    stats = {"placed": 0, "refused": 0, "claims": 0, "pass_seconds": 0.0}
    now = start
    with clock.frozen(now):
        while now < drain:
            if now < end:
                for _ in range(_arrivals(rng, STEP)):
                    placed = _place(rng, now, customers, dishes)
                    stats["placed" if placed else "refused"] += 1
            if now.second == 0:
                restaurants_sync(batch_size=500)
            if now.minute % 10 == 0 and now.second == 0:  # the estimates' cache lifetime, in simulated time
                cache.delete_many([cook_estimate_key(r.pk) for r in dishes])
            while True:
                started = time.perf_counter()
                claimed = orders_process_pass(batch_size=100).claimed
                stats["pass_seconds"] += time.perf_counter() - started
                stats["claims"] += claimed
                if not claimed:
                    break
            now += STEP
            clock.set_frozen(now)
    return stats


def _arrivals(rng: random.Random, step: timedelta) -> int:
    """Poisson arrivals over one step at ORDERS_PER_HOUR."""
    expected, count = ORDERS_PER_HOUR * step.total_seconds() / 3600, 0
    threshold, product = 2.718281828 ** -expected, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def bench_day() -> None:
    """A simulated day of orders with varied kitchen and courier timings: share delivered within
    ±5 minutes of the chosen time, lateness, and how many in-flight orders one processor follows
    (issue: orders)."""
    from django.conf import settings

    from orders.models import Order

    from bench import figure

    settings.ORDERS_SIM_VARIATION_PERCENT = int(os.environ.get("BENCH_DAY_VARIATION", 20))
    settings.ORDERS_SIM_PICKUP_SECONDS, settings.ORDERS_SIM_DELIVERY_SECONDS = 600, 900
    customers, dishes = _setup()
    stats = _run_day(customers, dishes)
    delivered = list(Order.objects.filter(status="delivered").values_list("eta", "delivered_at", "created_at",
                                                                            "late_at"))
    off = sorted((at - eta).total_seconds() / 60 for eta, at, _, _ in delivered)
    # Over every order taken: one cancelled or never delivered counts as missed, not left out.
    within = sum(1 for minutes in off if abs(minutes) <= 5) / stats["placed"]
    figure(f"orders delivered of {stats['placed']} placed ({stats['refused']} refused)", f"{len(off)}")
    figure("placed orders delivered within ±5 min of the time", f"{within:.1%}",
           f"goal >= 95 % ({within / 0.95:.2f}x of it)")
    figure("lateness: median (5th, 95th percentile)",
           f"{statistics.median(off):+.1f} ({off[len(off) // 20]:+.1f}, {off[-len(off) // 20 - 1]:+.1f}) min")
    late = [late_at for eta, at, _, late_at in delivered if (at - eta).total_seconds() > 300]
    told = sum(1 for eta, at, _, late_at in delivered if late_at)
    figure("late by over 5 min: told beforehand (customers told in all)",
           f"{sum(1 for t in late if t)} of {len(late)} ({told})")
    lifetime = statistics.mean((at - created).total_seconds() for _, at, created, _ in delivered)
    looks = stats["claims"] / max(1, stats["placed"])
    steps_per_second = stats["claims"] / stats["pass_seconds"]
    figure("looks at an order, placed to delivered", f"{looks:.1f}", "was one each ORDERS_POLL_SECONDS (20 s)")
    figure("in-flight orders one processor can follow",
           f"{steps_per_second * lifetime / looks:,.0f}",
           f"{steps_per_second:,.0f} steps/s here × {lifetime / 60:.0f} min in flight / {looks:.1f} looks")
