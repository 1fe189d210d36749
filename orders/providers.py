"""Restaurants' kitchens and delivery companies behind small interfaces, with simulated implementations.

The simulators keep their state in tables of their own (SimKitchenTicket, SimDeliveryJob) and write
them on a database connection of their own, committed at once: like a real outside system, they
remember a call even when the processor's transaction that made it is rolled back or killed. Every
call carries the ticket's or delivery's idempotency key; a repeated call returns what the first one
created. Timings come from the restaurant (sim_cook_seconds) and from settings, each varied by up to
ORDERS_SIM_VARIATION_PERCENT either way (the same for every look at one ticket or delivery).
"""
import hashlib
import os
import time
import uuid
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import connection, connections

from orders import clock
from orders.models import Delivery, Restaurant, Ticket
from orders.planning import CourierEstimate
from orders.states import DeliveryStatus, TicketStatus


class Kitchen(Protocol):
    def send_ticket(self, ticket: Ticket) -> str:
        """Hand the ticket to the restaurant; returns its id there. Idempotent by the ticket's key."""

    def statuses(self, tickets: list[Ticket]) -> dict[int, str]:
        """Ticket pk -> status, for kitchens that are polled."""


class Courier(Protocol):
    def estimate(self) -> CourierEstimate:
        """How long a driver takes to reach the restaurants once asked, and then to the door."""

    def request(self, delivery: Delivery, *, pickup_at) -> str:
        """Ask for a driver to pick up at pickup_at (not before); returns the delivery's id there.
        Idempotent by the delivery's key."""

    def food_ready(self, delivery: Delivery) -> None:
        """Every part is cooked: a driver waiting at the restaurants takes it now. Idempotent."""

    def status(self, delivery: Delivery) -> str | None:
        """The delivery's status there, for couriers that are polled (None for pushing ones)."""


_external = None


def _varied(seconds: float, key: str, what: str) -> timedelta:
    """seconds, varied by up to ORDERS_SIM_VARIATION_PERCENT either way, the same for one key."""
    spread = settings.ORDERS_SIM_VARIATION_PERCENT / 100
    unit = int.from_bytes(hashlib.sha256(f"{what}:{key}".encode()).digest()[:4]) / 0xFFFFFFFF  # 0..1
    return timedelta(seconds=seconds * (1 + spread * (2 * unit - 1)))


def _external_cursor():
    """A cursor on the simulators' own connection (the default one on SQLite, which has one writer)."""
    global _external
    if connection.vendor != "postgresql":
        return connection.cursor()
    if _external is None or _external.connection is None or _external.connection.closed:
        _external = connections.create_connection("default")
        with _external.cursor() as cursor:
            # A stand-in for a remote system need not wait for the disk on every call it records.
            cursor.execute("SET synchronous_commit = off")
    return _external.cursor()


def _record_call(cursor, kind: str, key: str) -> None:
    cursor.execute("INSERT INTO orders_providercall (kind, idempotency_key, at, pid) VALUES (%s, %s, %s, %s)",
                   [kind, key, clock.now(), os.getpid()])


def _create_once(kind: str, key: str, table: str, columns: list[str], values: list) -> str:
    """Record the call and create the outside object unless its key exists; returns its external id."""
    marks = ", ".join(["%s"] * len(columns))
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT (idempotency_key) DO NOTHING"
    if settings.ORDERS_SIM_CALL_MS:
        time.sleep(settings.ORDERS_SIM_CALL_MS / 1000)  # an outside system takes its time
    with _external_cursor() as cursor:
        if connection.vendor == "postgresql":  # one round trip
            cursor.execute(
                "WITH call AS (INSERT INTO orders_providercall (kind, idempotency_key, at, pid)"
                " VALUES (%s, %s, %s, %s)),"
                f" created AS ({insert} RETURNING external_id)"
                f" SELECT external_id FROM created UNION ALL"
                f" SELECT external_id FROM {table} WHERE idempotency_key = %s LIMIT 1",
                [kind, key, clock.now(), os.getpid(), *values, key])
        else:
            _record_call(cursor, kind, key)
            cursor.execute(insert, values)
            cursor.execute(f"SELECT external_id FROM {table} WHERE idempotency_key = %s", [key])
        return cursor.fetchone()[0]


class SimulatedKitchen:
    """A kitchen: cooking starts on receipt and is done after the restaurant's sim_cook_seconds."""

    def send_ticket(self, ticket: Ticket) -> str:
        return _create_once(
            "send_ticket", ticket.idempotency_key, "orders_simkitchenticket",
            ["restaurant_id", "idempotency_key", "external_id", "received_at", "rejected"],
            [ticket.restaurant_id, ticket.idempotency_key, f"K-{uuid.uuid4().hex[:12]}", clock.now(), False])

    def statuses(self, tickets: list[Ticket]) -> dict[int, str]:
        if not tickets:
            return {}
        cook = {t.pk: _varied(t.restaurant.sim_cook_seconds, t.idempotency_key, "cook") for t in tickets}
        with _external_cursor() as cursor:
            keys = [t.idempotency_key for t in tickets]
            cursor.execute("SELECT idempotency_key, received_at, rejected FROM orders_simkitchenticket"
                           f" WHERE idempotency_key IN ({', '.join(['%s'] * len(keys))})", keys)
            seen = {key: (received, rejected) for key, received, rejected in cursor.fetchall()}
        now, result = clock.now(), {}
        for ticket in tickets:
            if ticket.idempotency_key not in seen:
                continue
            received, rejected = seen[ticket.idempotency_key]
            if rejected:
                result[ticket.pk] = TicketStatus.REJECTED
            else:
                result[ticket.pk] = TicketStatus.COOKED if now - received >= cook[ticket.pk] else TicketStatus.COOKING
        return result


class SimulatedCourier:
    """A delivery company: a driver is assigned at once, picks up after ORDERS_SIM_PICKUP_SECONDS and
    delivers after ORDERS_SIM_DELIVERY_SECONDS more. Polled, or (pushing) it calls our webhook."""

    def __init__(self, *, polled: bool) -> None:
        self.polled = polled

    def estimate(self) -> CourierEstimate:
        return CourierEstimate(lead=timedelta(seconds=settings.ORDERS_SIM_PICKUP_SECONDS),
                               travel=timedelta(seconds=settings.ORDERS_SIM_DELIVERY_SECONDS))

    def request(self, delivery: Delivery, *, pickup_at) -> str:
        return _create_once(
            "request_delivery", delivery.idempotency_key, "orders_simdeliveryjob",
            ["idempotency_key", "external_id", "received_at", "fails", "pickup_after"],
            [delivery.idempotency_key, f"D-{uuid.uuid4().hex[:12]}", clock.now(), False, pickup_at])

    def food_ready(self, delivery: Delivery) -> None:
        with _external_cursor() as cursor:
            cursor.execute("UPDATE orders_simdeliveryjob SET ready_at = %s WHERE idempotency_key = %s"
                           " AND ready_at IS NULL", [clock.now(), delivery.idempotency_key])

    def status(self, delivery: Delivery) -> str | None:
        if not self.polled:
            return None
        with _external_cursor() as cursor:
            cursor.execute("SELECT received_at, fails, pickup_after, ready_at FROM orders_simdeliveryjob"
                           " WHERE idempotency_key = %s", [delivery.idempotency_key])
            row = cursor.fetchone()
        if row is None:
            return None
        received, fails, pickup_after, ready_at = row
        key = delivery.idempotency_key
        pickup = received + _varied(settings.ORDERS_SIM_PICKUP_SECONDS, key, "lead")  # the driver is there
        if pickup_after is not None:  # a planned pickup: not before its time, nor before the food is ready
            if ready_at is None:
                return DeliveryStatus.ASSIGNED
            pickup = max(pickup, pickup_after, ready_at)
        now = clock.now()
        if now >= pickup + _varied(settings.ORDERS_SIM_DELIVERY_SECONDS, key, "travel"):
            return DeliveryStatus.FAILED if fails else DeliveryStatus.DELIVERED
        return DeliveryStatus.PICKED_UP if now >= pickup else DeliveryStatus.ASSIGNED


def kitchen_for(restaurant: Restaurant) -> Kitchen:
    return SimulatedKitchen()


def courier_for(provider: str) -> Courier:
    return SimulatedCourier(polled=provider == "polled")


def close_external() -> None:
    """Close the simulators' connection (tests, before the test database is dropped)."""
    global _external
    if _external is not None:
        _external.close()
        _external = None

