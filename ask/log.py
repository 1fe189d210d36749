"""One log event per line: tracebacks are folded so line-based collectors (journald, docker, the job
log under cron) keep an event together. At a terminal an admin reads them as Python prints them.
LOG_FORMAT=json writes each event as a JSON object instead."""
import logging

from pythonjsonlogger import json as jsonlogger

from ask.jobs.log_context import current_run

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


class JsonFormatter(jsonlogger.JsonFormatter):
    """LOG_FORMAT=json: one JSON object a line for collectors that parse (Loki, Elasticsearch):
    time, level, logger, message, the traceback as `exc_info`, and `job` and `run` on every line a job
    run writes (ask.jobs.log_context)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        run = current_run.get()
        if run is not None:
            log_record["job"] = run[0]
            if run[1] is not None:
                log_record["run"] = run[1]
