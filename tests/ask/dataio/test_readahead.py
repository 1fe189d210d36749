"""read_ahead: the items in order, an error after the items before it, and no thread left behind."""
import threading

import pytest

from ask.dataio.readahead import read_ahead


def test_items_arrive_in_order_and_an_error_after_the_items_before_it():
    def items():
        yield from range(5)
        raise ValueError("line 6: broken")

    received = []
    with pytest.raises(ValueError, match="line 6"):
        for item in read_ahead(items()):
            received.append(item)
    assert received == [0, 1, 2, 3, 4]


def test_leaving_early_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    ahead = read_ahead(endless(), depth=2)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()
    assert closed.is_set(), "the source generator was closed"
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())
