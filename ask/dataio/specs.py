"""What export_data and import_data move, per model: a Spec each app registers for its own models
(columns, the natural key rows are upserted by, how each value is read back, how rows are exported
and written). The framework names no model: SPECS holds what the apps registered, in the order of
INSTALLED_APPS. Secrets (password hashes, tokens) are never among the columns; derived counters
(ratings, answer counts) are rebuilt after an import instead of being carried."""
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

if TYPE_CHECKING:
    from ask.dataio.writer import SpecWriter

class BadValue(ValueError):
    """A value that cannot be read; the message says what was expected."""


def read_text(raw: str) -> str:
    return raw


def read_required(raw: str) -> str:
    if raw == "":
        raise BadValue("is required")
    return raw


def fits(model, field_name: str, reader: Callable[[str], object] = read_required) -> Callable[[str], object]:
    """A reader that also refuses what the model's column cannot hold, by the field's own validators:
    too long, out of range, too many digits, not one of its choices."""
    model_field = model._meta.get_field(field_name)
    choices = [value for value, _ in model_field.choices] if model_field.choices else None

    def read(raw: str):
        value = reader(raw)
        if choices and value not in choices:
            raise BadValue(f"{raw!r} is not one of {', '.join(choices)}")
        try:
            model_field.run_validators(value)
        except ValidationError as error:
            raise BadValue(" ".join(error.messages)) from None
        return value

    return read


def read_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise BadValue(f"{raw!r} is not a whole number") from None


def read_bool(raw: str) -> bool:
    if raw in ("true", "false"):
        return raw == "true"
    raise BadValue(f"{raw!r} is not true or false")


def read_datetime(raw: str) -> datetime:
    value = parse_datetime(raw) if raw else None
    if value is None or value.tzinfo is None:
        raise BadValue(f"{raw!r} is not a date and time with its UTC offset (ISO 8601)")
    return value


def read_optional_datetime(raw: str) -> datetime | None:
    return read_datetime(raw) if raw else None


def read_decimal(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadValue(f"{raw!r} is not a decimal number") from None
    if not value.is_finite():
        raise BadValue(f"{raw!r} is not a decimal number")
    return value


def read_time(raw: str) -> time:
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise BadValue(f"{raw!r} is not a time (HH:MM)") from None


def format_of(path: Path) -> str:
    """The format a file's name says (.jsonl, .jsonl.gz, .json): jsonl; anything else: csv."""
    return "jsonl" if {".jsonl", ".json"} & set(path.suffixes) else "csv"


@dataclass(frozen=True)
class Spec:
    name: str
    key: tuple[str, ...]  # the natural key: importing a row with the same key updates that row
    columns: dict[str, Callable[[str], object]]  # column -> reader
    # Export: rows(since) yields each row as strings in column order (ask.dataio.exporting helps).
    rows: Callable[[datetime | None], Iterator[list[str]]]
    # Import: the class that checks and writes batches of rows (an ask.dataio.writer.SpecWriter).
    writer: "type[SpecWriter]"
    since_field: str | None = None  # what --since filters on
    # Optional CSV fast path on PostgreSQL (COPY TO): a SELECT of the same columns and values, with
    # {where} where a --since condition on copy_since goes.
    copy_select: str | None = None
    copy_since: str | None = None


SPECS: dict[str, Spec] = {}


def register(*specs: Spec) -> None:
    """Make specs known to export_data and import_data (call it from AppConfig.ready())."""
    for spec in specs:
        SPECS[spec.name] = spec
