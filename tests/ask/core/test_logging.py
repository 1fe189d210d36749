import logging

from ask.log import OneLineFormatter


def test_a_logged_traceback_stays_on_one_line():
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        record = logging.LogRecord("ask", logging.ERROR, __file__, 1, "boom", None, exc_info=True)
        import sys

        record.exc_info = sys.exc_info()
    line = OneLineFormatter().format(record)
    assert "\n" not in line
    assert "ERROR ask: boom" in line and "ValueError: first\\nsecond" in line
