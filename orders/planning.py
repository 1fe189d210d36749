"""When each part of an order happens, planned backward from the delivery time the customer chose.

    eta  ←travel←  pickup_at  ←each kitchen's cooking time←  that kitchen's start
                   pickup_at  ←the courier's lead←           courier_at (the driver is asked for)

Every part is cooked by pickup_at and the driver arrives then: the food neither waits long nor leaves
early (a fixed lead time started every kitchen 45 minutes ahead, and food came 27 minutes early).
pickup_at keeps ORDERS_PLAN_MARGIN_SECONDS in hand for a slow road.

Estimates: a restaurant's cooking time is learned from its latest timed tickets (a high percentile,
so most are ready in time; cached ten minutes), its own cook_minutes until there are enough; the
courier adapter gives its lead and travel times.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from orders.cache_keys import cook_estimate_key
from orders.models import Restaurant, Ticket

LEARN_FROM = 30  # a restaurant's latest timed tickets
LEARN_AT_LEAST = 5  # fewer than this: the restaurant's own cook_minutes
LEARN_PERCENTILE = 0.8  # most tickets are ready by the estimate
ESTIMATE_CACHE_SECONDS = 600


@dataclass(frozen=True)
class CourierEstimate:
    lead: timedelta  # from asking for a driver to the driver at the restaurants
    travel: timedelta  # from the restaurants to the door


@dataclass(frozen=True)
class Plan:
    eta: datetime
    pickup_at: datetime
    courier_at: datetime
    starts: dict[int, datetime]  # restaurant id -> when its kitchen is to start

    @property
    def first_step_at(self) -> datetime:
        return min([*self.starts.values(), self.courier_at])


def _margin() -> timedelta:
    return timedelta(seconds=settings.ORDERS_PLAN_MARGIN_SECONDS)


def plan_backward(eta: datetime, cook: dict[int, timedelta], courier: CourierEstimate) -> Plan:
    pickup_at = eta - courier.travel - _margin()
    return Plan(eta=eta, pickup_at=pickup_at, courier_at=pickup_at - courier.lead,
                starts={restaurant: pickup_at - cooking for restaurant, cooking in cook.items()})


def earliest_eta(now: datetime, cook: dict[int, timedelta], courier: CourierEstimate) -> datetime:
    """The soonest delivery a plan started now can keep (cooking and the driver's way in parallel)."""
    return now + max([*cook.values(), courier.lead]) + courier.travel + _margin()


def expected_delivery(now: datetime, *, ready_at: datetime | None, courier: CourierEstimate,
                      picked_up_at: datetime | None = None) -> datetime:
    """When the food should now arrive: from when every part is expected ready (None: it is), or
    from when the driver took it. A minute from now at the least, for what is overdue."""
    soon = now + timedelta(minutes=1)
    if picked_up_at is not None:
        return max(picked_up_at + courier.travel, soon)
    return max(ready_at or now, soon) + courier.travel


def cook_estimates(restaurants: list[Restaurant]) -> dict[int, timedelta]:
    """Restaurant id -> its cooking-time estimate; one cache round trip for all of them."""
    keys = {cook_estimate_key(r.pk): r for r in restaurants}
    cached = cache.get_many(list(keys))
    missing = {key: _learned(restaurant) for key, restaurant in keys.items()
               if not isinstance(cached.get(key), int)}
    if missing:
        cache.set_many(missing, ESTIMATE_CACHE_SECONDS)
    seconds = {**cached, **missing}
    return {restaurant.pk: timedelta(seconds=seconds[key]) for key, restaurant in keys.items()}


def _learned(restaurant: Restaurant) -> int:
    """Seconds: the LEARN_PERCENTILE of its latest timed tickets (index orders_ticket_cooked)."""
    timed = (Ticket.objects.filter(restaurant=restaurant, cooked_at__isnull=False, sent_at__isnull=False)
             .order_by("-cooked_at").values_list("sent_at", "cooked_at")[:LEARN_FROM])
    took = sorted((cooked - sent).total_seconds() for sent, cooked in timed)
    if len(took) < LEARN_AT_LEAST:
        return restaurant.cook_minutes * 60
    return round(took[min(len(took) - 1, int(len(took) * LEARN_PERCENTILE))])
