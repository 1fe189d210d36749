"""What export_data and import_data move, per model: columns, the natural key rows are upserted by,
how each value is written and read back. Secrets (password hashes, tokens) are never among them;
derived counters (ratings, answer counts) are rebuilt after an import instead of being carried."""
import json
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from accounts.models import User
from ask.models import Answer, Question
from ask.text import TAG_FORMAT
from orders.models import Dish, Order, Restaurant


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


def read_tag(raw: str) -> str:
    if not TAG_FORMAT.match(raw):
        raise BadValue(f"{raw!r} is not a tag name (a-z 0-9 + # . -, up to 32)")
    return raw


def read_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise BadValue(f"{raw!r} is not a whole number") from None


def read_vote(raw: str) -> int:
    value = read_int(raw)
    if value not in (1, -1):
        raise BadValue(f"{raw!r} is not 1 or -1")
    return value


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


def read_items(raw: str) -> list:
    try:
        items = json.loads(raw)
    except ValueError:
        raise BadValue("is not a JSON list of items") from None
    if not isinstance(items, list) or not items or not all(
        isinstance(i, dict) and {"restaurant", "dish", "quantity", "price"} <= set(i) for i in items
    ):
        raise BadValue('is not a non-empty JSON list of {"restaurant", "dish", "quantity", "price"}')
    for number, item in enumerate(items, start=1):
        quantity = item["quantity"]
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise BadValue(f"item {number}: quantity {quantity!r} is not a whole number of at least 1")
        read_decimal(str(item["price"]))
    return items


def write(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def format_of(path: Path) -> str:
    """The format a file's name says (.jsonl, .jsonl.gz, .json): jsonl; anything else: csv."""
    return "jsonl" if {".jsonl", ".json"} & set(path.suffixes) else "csv"


@dataclass(frozen=True)
class Spec:
    name: str
    key: tuple[str, ...]  # the natural key: importing a row with the same key updates that row
    columns: dict[str, Callable[[str], object]]  # column -> reader
    since_field: str | None = None  # what --since filters on
    notes: str = ""
    depends_on: tuple[str, ...] = field(default=())


SPECS = {spec.name: spec for spec in [
    Spec("users", ("email",), {"email": fits(User, "email"), "display_name": fits(User, "display_name"), "is_active": read_bool,
                               "date_joined": read_datetime, "activated_at": read_optional_datetime},
         since_field="date_joined", notes="no password: imported users set one with a password reset"),
    Spec("tags", ("name",), {"name": read_tag}),
    Spec("questions", ("id",), {"id": fits(Question, "id", read_int), "author": read_required, "title": fits(Question, "title"),
                                "text": read_required, "created_at": read_datetime, "tags": read_text},
         since_field="created_at", depends_on=("users", "tags"), notes="author by e-mail; tags space-separated"),
    Spec("answers", ("id",), {"id": fits(Answer, "id", read_int), "question": read_int, "author": read_required, "text": read_required,
                              "created_at": read_datetime, "is_accepted": read_bool},
         since_field="created_at", depends_on=("users", "questions")),
    Spec("votes", ("target", "target_id", "user"), {"target": read_required, "target_id": read_int, "user": read_required,
                                                    "value": read_vote, "created_at": read_datetime},
         since_field="created_at", depends_on=("users", "questions", "answers"),
         notes="target is question or answer; one vote per user and target"),
    Spec("restaurants", ("slug",), {"slug": fits(Restaurant, "slug"), "name": fits(Restaurant, "name"),
                                    "integration": fits(Restaurant, "integration"),
                                    "opens_at": read_time, "closes_at": read_time},
         notes="no webhook token: set a new one with restaurant_token"),
    Spec("dishes", ("restaurant", "name"), {"restaurant": read_required, "name": fits(Dish, "name"),
                                            "price": fits(Dish, "price", read_decimal), "available": read_bool}, depends_on=("restaurants",)),
    Spec("orders", ("id",), {"id": fits(Order, "id", read_int), "customer": read_required, "eta": read_datetime, "status": fits(Order, "status"),
                             "total": fits(Order, "total", read_decimal), "address": fits(Order, "address", read_text),
                             "delivery_provider": fits(Order, "delivery_provider"),
                             "created_at": read_datetime, "delivered_at": read_optional_datetime,
                             "delayed_minutes": fits(Order, "delayed_minutes", read_int), "items": read_items},
         since_field="created_at", depends_on=("users", "dishes"),
         notes="items as JSON: restaurant slug, dish name, quantity, price at ordering; history and "
               "tickets stay behind"),
]}
