"""Processors woken by the database instead of polling: PostgreSQL's LISTEN/NOTIFY.

A change that makes an order due (a new order, a kitchen or courier report, a kitchen button) sends
NOTIFY in its own transaction, so PostgreSQL delivers it when, and only if, that transaction
commits. An idle processor waits on a connection of its own that LISTENs, until a notification, the
next order's due time, or ORDERS_LISTENING_MAX_WAIT (30 s) at the latest; without a LISTEN connection (SQLite, which
has no notifications; a connection that failed, until the next wait makes a new one) it polls every
--interval. Any processor on any host may take the
order: they still claim with SKIP LOCKED.
"""
import logging
import select
import threading
import time

from django.conf import settings
from django.db import connection
from django.db.models import Min

from ask.jobs.locks import lock_connection
from orders import clock
from orders.models import Order
from orders.states import ACTIVE_ORDER_STATUSES

logger = logging.getLogger(__name__)
POLL_SLICE = 0.25  # seconds between looks at the stop event (SIGTERM) while waiting


def channel() -> str:
    """The channel of this installation (SITE_NAME keeps sites sharing one server apart)."""
    return f"{settings.SITE_NAME}_orders_due"


def orders_notify() -> None:
    """Wake the waiting processors when the caller's transaction commits (nothing on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [channel()])


def seconds_until_due() -> float | None:
    """Seconds until the earliest active order is due (0 when one is due now); None when none waits."""
    first = Order.objects.filter(status__in=ACTIVE_ORDER_STATUSES).aggregate(first=Min("next_check_at"))["first"]
    return None if first is None else max(0.0, (first - clock.now()).total_seconds())


class Waker:
    """An idle processor's wait: woken by NOTIFY, by the next due time, or after `pause` at most."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.listening = None  # the LISTEN connection (a Django wrapper), made on the first wait
        self.notified = 0

    def _listen(self):
        if self.listening is None and connection.vendor == "postgresql":
            try:
                wrapper = lock_connection()
                wrapper.ensure_connection()
                with wrapper.cursor() as cursor:
                    cursor.execute(f'LISTEN "{channel()}"')
                self.listening = wrapper
            except Exception as error:  # no notifications this time: the wait polls, as on SQLite
                logger.warning("process_orders: cannot LISTEN (%s); polling every --interval", error)
        return self.listening

    def wait(self, pause: float) -> None:
        """Return after `pause` seconds, or earlier when an order becomes due or is announced."""
        self._listen()
        due = seconds_until_due()  # after LISTEN: an order announced from now on wakes this wait
        start, longest = time.monotonic(), max(pause, settings.ORDERS_LISTENING_MAX_WAIT)
        polling_until = start + (pause if due is None else min(pause, due))
        listening_until = start + (longest if due is None else min(longest, due))
        while not self.stop.is_set():
            # While LISTENing, up to the safety net; once not (never, or the connection failed), --interval.
            left = (listening_until if self.listening is not None else polling_until) - time.monotonic()
            if left <= 0:
                return
            if self.listening is None:
                self.stop.wait(min(left, POLL_SLICE))
            elif self._notified(min(left, POLL_SLICE)):
                return

    def _notified(self, seconds: float) -> bool:
        raw = self.listening.connection
        try:
            if select.select([raw], [], [], seconds)[0]:
                raw.poll()
            if raw.notifies:
                self.notified += len(raw.notifies)
                raw.notifies.clear()
                return True
        except Exception as error:  # the connection died: poll from now on, LISTEN again next wait
            logger.warning("process_orders: the LISTEN connection failed (%s); polling meanwhile", error)
            self.close()
        return False

    def close(self) -> None:
        if self.listening is not None:
            try:
                self.listening.close()
            except Exception:
                pass
            self.listening = None
