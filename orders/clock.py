"""The one clock of the orders domain: every "now" of ordering, processing and the simulators.

Tests move it with `frozen(at)`; child processes get an offset from ORDERS_CLOCK_OFFSET_SECONDS.
"""
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from django.conf import settings
from django.utils import timezone

_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return timezone.now() + timedelta(seconds=settings.ORDERS_CLOCK_OFFSET_SECONDS)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    global _frozen
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous


def set_frozen(at: datetime | None) -> None:
    """Move a frozen clock (tests): set_frozen(at) inside frozen(...), or None to thaw."""
    global _frozen
    _frozen = at
