"""import_data: rows validated one by one, bad ones reported (file, line, field, reason) and written
to a rejects file, good ones upserted by their natural key in batches (INSERT … ON CONFLICT), so the
same file imported twice changes nothing. --atomic makes it all or nothing."""
import csv
import gzip
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from django.db import connection, transaction

from accounts.models import User
from ask.dataio.specs import SPECS, BadValue, Spec
from ask.models import Answer, AnswerVote, Question, QuestionVote, Tag
from ask.text import TAG_FORMAT, render_markdown
from orders.models import Dish, Order, OrderItem, Restaurant

BATCH = 2000  # rows per transaction in batch mode: ≈ 1 s of work, a few MB of WAL


class FileProblem(Exception):
    """The file as a whole cannot be read on (encoding, header, truncation); says where."""


@dataclass
class Row:
    line: int
    raw: dict  # column -> text as in the file
    values: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    read: int = 0
    written: int = 0
    batches: int = 0
    rejected: list = field(default_factory=list)  # (line, field, reason, raw)


def _text_lines(path: Path) -> Iterator[str]:
    """The file's lines as text, decoded one by one so an encoding error names its line."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    number = 0
    try:
        with (gzip.open(path, "rb") if gzipped else path.open("rb")) as source:
            for number, line in enumerate(source, start=1):
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise FileProblem(f"{path}: line {number}: not UTF-8 text ({error.reason} at byte "
                                      f"{error.start} of the line)") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise FileProblem(f"{path}: line {number + 1}: the gzip stream is damaged or cut short ({error})") from None


def read_rows(path: Path, spec: Spec, fmt: str) -> Iterator[Row]:
    columns = set(spec.columns)
    lines = _text_lines(path)
    if fmt == "csv":
        reader = csv.reader(lines)  # quoted fields may span lines; line_num counts physical lines
        header = next(reader, None)
        if not header:
            raise FileProblem(f"{path}: the file is empty; expected a header line: {','.join(spec.columns)}")
        missing, extra = [c for c in spec.columns if c not in header], [c for c in header if c not in columns]
        if missing or extra:
            raise FileProblem(f"{path}: line 1: " + "; ".join(
                filter(None, [missing and f"missing columns: {', '.join(missing)}",
                              extra and f"unexpected columns: {', '.join(extra)}"])))
        start = reader.line_num + 1
        try:
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not cells:
                    continue
                if len(cells) != len(header):
                    yield Row(line, {"_line": ",".join(cells)}, {"_error": ("", f"{len(cells)} fields, the header has {len(header)}")})
                    continue
                yield Row(line, dict(zip(header, cells)))
        except csv.Error as error:
            raise FileProblem(f"{path}: line {reader.line_num}: not valid CSV ({error})") from None
        return
    seen_any = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        seen_any = True
        try:
            data = json.loads(line)
        except ValueError:
            yield Row(number, {"_line": line.rstrip("\n")}, {"_error": ("", "not a JSON object")})
            continue
        if not isinstance(data, dict) or set(data) != columns or not all(isinstance(v, str) for v in data.values()):
            got = set(data) if isinstance(data, dict) else set()
            reason = "; ".join(filter(None, [
                (columns - got) and f"missing fields: {', '.join(sorted(columns - got))}",
                (got - columns) and f"unexpected fields: {', '.join(sorted(got - columns))}"])) or "values must be strings"
            yield Row(number, {"_line": line.rstrip("\n")}, {"_error": ("", reason)})
            continue
        yield Row(number, data)
    if not seen_any:
        raise FileProblem(f"{path}: the file is empty; expected JSON Lines with fields {', '.join(spec.columns)}")


def _parse(row: Row, spec: Spec) -> tuple[str, str] | None:
    """Fill row.values from row.raw; returns (field, reason) for the first bad value."""
    if "_error" in row.values:
        return row.values["_error"]
    for column, reader in spec.columns.items():
        try:
            row.values[column] = reader(row.raw[column])
        except BadValue as bad:
            return column, str(bad)
    return None


class Writer:
    """Resolves references and upserts one batch of parsed rows of a model.

    refs() looks the batch's users and dishes up once and keeps them for write().
    """

    USER_FIELD = {"questions": "author", "answers": "author", "votes": "user", "orders": "customer"}

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.user_ids: dict[str, int] = {}
        self.dish_ids: dict[tuple[str, str], int] = {}

    def refs(self, rows: list[Row]) -> dict[int, tuple[str, str]]:
        """Rows whose references point at nothing: {index: (field, reason)}."""
        bad = {}
        values = [r.values for r in rows]

        def check(field_name: str, found: set, what: str) -> None:
            for index, value in enumerate(values):
                if index not in bad and value[field_name] not in found:
                    bad[index] = (field_name, f"no {what} {value[field_name]!r}")

        name = self.spec.name
        if name in self.USER_FIELD:
            field_name = self.USER_FIELD[name]
            self.user_ids = dict(User.objects.filter(email__in={v[field_name] for v in values}).values_list("email", "pk"))
            check(field_name, set(self.user_ids), "user")
        if name == "questions":
            for index, value in enumerate(values):
                tags = value["tags"].split()
                wrong = [t for t in tags if not TAG_FORMAT.match(t)]
                if index not in bad and (wrong or len(tags) > 3):
                    bad[index] = ("tags", f"bad tag {wrong[0]!r}" if wrong else "more than 3 tags")
        if name == "answers":
            check("question", set(Question.objects.filter(pk__in={v["question"] for v in values}).values_list("pk", flat=True)), "question")
        if name == "votes":
            for index, value in enumerate(values):
                if index not in bad and value["target"] not in ("question", "answer"):
                    bad[index] = ("target", f"{value['target']!r} is not question or answer")
            for target, model in (("question", Question), ("answer", Answer)):
                ids = {v["target_id"] for i, v in enumerate(values) if v["target"] == target and i not in bad}
                found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
                for index, value in enumerate(values):
                    if index not in bad and value["target"] == target and value["target_id"] not in found:
                        bad[index] = ("target_id", f"no {target} {value['target_id']}")
        if name == "dishes":
            check("restaurant", set(Restaurant.objects.filter(slug__in={v["restaurant"] for v in values}).values_list("slug", flat=True)), "restaurant")
        if name == "restaurants":
            for index, value in enumerate(values):
                if value["integration"] not in Restaurant.Integration.values:
                    bad[index] = ("integration", f"{value['integration']!r} is not polled or pushed")
        if name == "orders":
            self.dish_ids = {(d.restaurant.slug, d.name): d.pk for d in Dish.objects.select_related("restaurant").filter(
                name__in={i["dish"] for v in values for i in v["items"]})}
            for index, value in enumerate(values):
                missing = [f"{i['restaurant']}/{i['dish']}" for i in value["items"]
                           if (i["restaurant"], i["dish"]) not in self.dish_ids]
                if index not in bad and missing:
                    bad[index] = ("items", f"no dish {missing[0]}")
        return bad

    def write(self, rows: list[Row]) -> None:
        values = [r.values for r in rows]
        name = self.spec.name
        if name == "users":
            User.objects.bulk_create([User(**v, password="!") for v in values], update_conflicts=True, unique_fields=["email"],
                                     update_fields=["display_name", "is_active", "date_joined", "activated_at"])
        elif name == "tags":
            Tag.objects.bulk_create([Tag(name=v["name"]) for v in values], ignore_conflicts=True)
        elif name == "questions":
            users = self.user_ids
            Question.objects.bulk_create(
                [Question(id=v["id"], author_id=users[v["author"]], title=v["title"], text=v["text"],
                          text_html=render_markdown(v["text"]), created_at=v["created_at"], updated_at=v["created_at"])
                 for v in values],
                update_conflicts=True, unique_fields=["id"], update_fields=["author", "title", "text", "text_html", "created_at"])
            names = {t for v in values for t in v["tags"].split()}
            Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
            tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
            through = Question.tags.through
            through.objects.filter(question_id__in=[v["id"] for v in values]).delete()
            through.objects.bulk_create([through(question_id=v["id"], tag_id=tag_ids[t]) for v in values for t in v["tags"].split()])
        elif name == "answers":
            users = self.user_ids
            Answer.objects.bulk_create(
                [Answer(id=v["id"], question_id=v["question"], author_id=users[v["author"]], text=v["text"],
                        text_html=render_markdown(v["text"]), created_at=v["created_at"], is_accepted=v["is_accepted"])
                 for v in values],
                update_conflicts=True, unique_fields=["id"],
                update_fields=["question", "author", "text", "text_html", "created_at", "is_accepted"])
        elif name == "votes":
            users = self.user_ids
            for target, model in (("question", QuestionVote), ("answer", AnswerVote)):
                model.objects.bulk_create(
                    [model(user_id=users[v["user"]], value=v["value"], created_at=v["created_at"], **{f"{target}_id": v["target_id"]})
                     for v in values if v["target"] == target],
                    update_conflicts=True, unique_fields=[target, "user"], update_fields=["value", "created_at"])
        elif name == "restaurants":
            Restaurant.objects.bulk_create([Restaurant(**v) for v in values], update_conflicts=True,
                                           unique_fields=["slug"], update_fields=["name", "integration", "opens_at", "closes_at"])
        elif name == "dishes":
            restaurants = dict(Restaurant.objects.filter(slug__in={v["restaurant"] for v in values}).values_list("slug", "pk"))
            for v in values:
                Dish.objects.update_or_create(restaurant_id=restaurants[v["restaurant"]], name=v["name"],
                                              defaults={"price": v["price"], "available": v["available"]})
        elif name == "orders":
            users = self.user_ids
            dishes = self.dish_ids
            Order.objects.bulk_create(
                [Order(id=v["id"], customer_id=users[v["customer"]], eta=v["eta"], status=v["status"], total=v["total"],
                       address=v["address"], delivery_provider=v["delivery_provider"], created_at=v["created_at"],
                       delivered_at=v["delivered_at"], delayed_minutes=v["delayed_minutes"]) for v in values],
                update_conflicts=True, unique_fields=["id"],
                update_fields=["customer", "eta", "status", "total", "address", "delivery_provider", "created_at",
                               "delivered_at", "delayed_minutes"])
            OrderItem.objects.filter(order_id__in=[v["id"] for v in values]).delete()
            OrderItem.objects.bulk_create([OrderItem(order_id=v["id"], dish_id=dishes[(i["restaurant"], i["dish"])],
                                                     quantity=int(i["quantity"]), price=i["price"])
                                           for v in values for i in v["items"]])

    def finish(self) -> None:
        """After explicit ids: move the id sequences past them (PostgreSQL)."""
        tables = {"questions": "ask_question", "answers": "ask_answer", "orders": "orders_order"}
        if self.spec.name in tables and connection.vendor == "postgresql":
            table = tables[self.spec.name]
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"GREATEST((SELECT MAX(id) FROM {table}), 1))")


def import_file(*, path: Path, model: str, fmt: str, atomic: bool, dry_run: bool, report: ImportReport,
                on_batch=None) -> None:
    """Read, validate and write; raises FileProblem for a file that cannot be read on."""
    spec = SPECS[model]
    writer = Writer(spec)
    seen: dict[tuple, int] = {}
    batch: list[Row] = []

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        with transaction.atomic():
            bad = writer.refs(batch)
            good = [row for index, row in enumerate(batch) if index not in bad]
            for index in sorted(bad):
                report.rejected.append((batch[index].line, *bad[index], batch[index].raw))
            if good and not dry_run:
                writer.write(good)
            report.written += len(good)
        report.batches += 1
        if on_batch:
            on_batch(len(batch))
        batch = []

    def run() -> None:
        for row in read_rows(path, spec, fmt):
            report.read += 1
            problem = _parse(row, spec)
            if problem is None:
                key = tuple(row.values[k] for k in spec.key)
                if key in seen:
                    problem = (",".join(spec.key), f"the same key as line {seen[key]}")
                else:
                    seen[key] = row.line
            if problem:
                report.rejected.append((row.line, *problem, row.raw))
                continue
            batch.append(row)
            if len(batch) >= BATCH:
                flush()
        flush()
        if not dry_run:
            writer.finish()

    if atomic or dry_run:
        with transaction.atomic():
            run()
            if dry_run or report.rejected:
                transaction.set_rollback(True)
                if not dry_run:
                    report.written = 0
    else:
        run()


def write_rejects(report: ImportReport, path: Path, spec: Spec, fmt: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["line", "field", "reason", *spec.columns])
            for line, field_name, reason, raw in report.rejected:
                writer.writerow([line, field_name, reason, *(raw.get(c, raw.get("_line", "")) for c in spec.columns)])
        else:
            for line, field_name, reason, raw in report.rejected:
                out.write(json.dumps({"_line": line, "_field": field_name, "_reason": reason, **raw}, ensure_ascii=False) + "\n")


