"""One log event per line: tracebacks are folded so line-based collectors (journald, docker, the job
log under cron) keep an event together. At a terminal an admin reads them as Python prints them."""
import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")


class StderrHandler(logging.StreamHandler):
    """stderr: one line per event into a pipe, journald or docker; unfolded at a terminal, where a
    traceback with literal \\n in one 600-character line helps nobody."""

    readable = logging.Formatter(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        isatty = getattr(self.stream, "isatty", None)
        if isatty and isatty():
            return self.readable.format(record)
        return super().format(record)
