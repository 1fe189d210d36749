from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest

from orders import clock

START = datetime(2026, 11, 23, 12, 0, tzinfo=dt_timezone.utc)
# An eta this far ahead makes cooking due at once: the factories' kitchens cook 10 minutes and the
# simulated courier takes 5 on the road, with 1 in hand (orders.planning).
DUE_NOW = timedelta(minutes=16)


@pytest.fixture
def frozen_clock():
    """The orders clock stopped at START; .at(t) moves it."""

    class Clock:
        now = START

        def at(self, moment):
            self.now = moment
            clock.set_frozen(moment)

        def advance(self, **delta):
            from datetime import timedelta

            self.at(self.now + timedelta(**delta))

    with clock.frozen(START):
        yield Clock()


@pytest.fixture(autouse=True)
def _close_simulator_connection():
    yield
    from orders.providers import close_external

    close_external()
