"""What a batch of checked rows does to the database, model by model: references looked up, rows
upserted by their natural key, and what the written rows change (counters, cached pages) noted in
the report."""
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models.functions import Lower

from accounts.models import User
from ask.dataio.files import Row
from ask.dataio.specs import Spec
from ask.dataio.upsert import copy_text_of, select_in, upsert
from ask.models import Answer, AnswerVote, Question, QuestionVote, Tag
from ask.text import TAG_FORMAT, render_markdown
from orders.models import Dish, Order, OrderItem, Restaurant


@dataclass
class ImportReport:
    read: int = 0
    written: int = 0
    batches: int = 0
    rejected: list = field(default_factory=list)  # (line, field, reason, raw)
    # What the written rows changed (see ask.ratings): counters to add to for inserted rows, to
    # rebuild for updated ones; and whether cached pages are stale.
    added: dict = field(default_factory=lambda: {"answers": {}, "question votes": {}, "answer votes": {}})
    touched: dict = field(default_factory=lambda: {"answers": set(), "question votes": set(), "answer votes": set()})
    pages_changed: bool = False

    def note_written(self, kind: str, pk: int, inserted: bool, *amounts: int) -> None:
        """A row written for counters of `kind` on row pk: an inserted one adds its amounts (summed per
        pk), an updated one has the counters recounted."""
        if inserted:
            sums = self.added[kind].setdefault(pk, [0] * len(amounts))
            for index, amount in enumerate(amounts):
                sums[index] += amount
        else:
            self.touched[kind].add(pk)

    def forget_writes(self) -> None:
        """The transaction was rolled back: nothing to count."""
        self.added = {kind: {} for kind in self.added}
        self.touched = {kind: set() for kind in self.touched}
        self.pages_changed = False


class Writer:
    """Checks and writes the batches of parsed rows of a model, in two threads.

    refs() and prepare() run in the reading thread, on a connection of their own: they only read, so
    they see neither this import's rows of the earlier batches (not committed yet, or not at all with
    --atomic) nor need to: what they must know of those rows they remember here. write() runs in the
    command's thread, in its transaction.
    """

    USER_FIELD = {"questions": "author", "answers": "author", "votes": "user", "orders": "customer"}

    def __init__(self, spec: Spec, report: ImportReport) -> None:
        self.spec = spec
        # Rows found by earlier batches are not looked up again (a file refers to the same users and
        # questions over and over); bounded by the referenced tables, not by the file.
        self.user_ids: dict[str, int] = {}
        self.question_ids: set[int] = set()
        self.dish_ids: dict[tuple[str, str], int] = {}
        # What earlier batches of this import claimed: accepted answers by question, names by owner.
        self.accepted: dict[int, int] = {}
        self.names: dict[str, str] = {}
        self.report = report

    def refs(self, rows: list[Row]) -> dict[int, tuple[str, str]]:
        """Rows whose references point at nothing: {index: (field, reason)}."""
        bad = {}
        values = [r.values for r in rows]

        def check(field_name: str, found, what: str) -> None:
            for index, value in enumerate(values):
                if index not in bad and value[field_name] not in found:
                    bad[index] = (field_name, f"no {what} {value[field_name]!r}")

        name = self.spec.name
        if name in self.USER_FIELD:
            field_name = self.USER_FIELD[name]
            unknown = {v[field_name] for v in values} - self.user_ids.keys()
            if unknown:
                self.user_ids.update(select_in(User, "email", unknown, ["email", "id"]))
            check(field_name, self.user_ids, "user")
        if name == "questions":
            for index, value in enumerate(values):
                tags = value["tags"].split()
                wrong = [t for t in tags if not TAG_FORMAT.match(t)]
                if index not in bad and (wrong or len(tags) > 3):
                    bad[index] = ("tags", f"bad tag {wrong[0]!r}" if wrong else "more than 3 tags")
        if name == "answers":
            unknown = {v["question"] for v in values} - self.question_ids
            if unknown:
                self.question_ids.update(pk for pk, in select_in(Question, "id", unknown, ["id"]))
            check("question", self.question_ids, "question")
            self._one_accepted(values, bad)
        if name == "users":
            self._names_free(values, bad)
        if name == "votes":
            for index, value in enumerate(values):
                if index not in bad and value["target"] not in ("question", "answer"):
                    bad[index] = ("target", f"{value['target']!r} is not question or answer")
            for target, model in (("question", Question), ("answer", Answer)):
                ids = {v["target_id"] for i, v in enumerate(values) if v["target"] == target and i not in bad}
                found = {pk for pk, in select_in(model, "id", ids, ["id"])}
                for index, value in enumerate(values):
                    if index not in bad and value["target"] == target and value["target_id"] not in found:
                        bad[index] = ("target_id", f"no {target} {value['target_id']}")
        if name == "dishes":
            check("restaurant", set(Restaurant.objects.filter(slug__in={v["restaurant"] for v in values}).values_list("slug", flat=True)), "restaurant")
        if name == "orders":
            self.dish_ids.update({(d.restaurant.slug, d.name): d.pk for d in Dish.objects.select_related("restaurant").filter(
                name__in={i["dish"] for v in values for i in v["items"]})})
            for index, value in enumerate(values):
                missing = [f"{i['restaurant']}/{i['dish']}" for i in value["items"]
                           if (i["restaurant"], i["dish"]) not in self.dish_ids]
                if index not in bad and missing:
                    bad[index] = ("items", f"no dish {missing[0]}")
        return bad

    def _one_accepted(self, values: list[dict], bad: dict) -> None:
        """A question has one accepted answer at most. An import does not move the mark from one answer
        to another (the rows are written in one statement, in no guaranteed order): it can only clear it."""
        accepting = {v["question"] for i, v in enumerate(values) if v["is_accepted"] and i not in bad}
        accepted = self.accepted
        accepted.update(Answer.objects.filter(question_id__in=accepting - accepted.keys(), is_accepted=True)
                        .values_list("question_id", "pk"))
        for index, value in enumerate(values):
            if index in bad or not value["is_accepted"]:
                continue
            if accepted.get(value["question"], value["id"]) != value["id"]:
                bad[index] = ("is_accepted", f"question {value['question']} has an accepted answer already "
                                             f"({accepted[value['question']]})")
            else:
                accepted[value["question"]] = value["id"]

    def _names_free(self, values: list[dict], bad: dict) -> None:
        """Display names are unique whatever their case: one may not go to a second e-mail address."""
        owner = self.names
        owner.update(User.objects.annotate(name=Lower("display_name"))
                     .filter(name__in={v["display_name"].lower() for v in values} - owner.keys()).values_list("name", "email"))
        for index, value in enumerate(values):
            name = value["display_name"].lower()
            if index not in bad and owner.setdefault(name, value["email"]) != value["email"]:
                bad[index] = ("display_name", f"{value['display_name']!r} is the name of {owner[name]} already")

    ANSWER_COLUMNS = ["id", "question_id", "author_id", "text", "text_html", "created_at", "is_accepted", "rating"]
    QUESTION_COLUMNS = ["id", "author_id", "title", "text", "text_html", "created_at", "updated_at", "rating",
                        "answer_count", "has_accepted"]

    def prepare(self, rows: list[Row]) -> dict:
        """The part of write() that needs no transaction, done while the previous batch is written:
        Markdown, the rows as they stand, the COPY text of the questions and answers."""
        values = [r.values for r in rows]
        users = self.user_ids
        if self.spec.name == "questions":
            tuples = [(v["id"], users[v["author"]], v["title"], v["text"], render_markdown(v["text"]), v["created_at"],
                       v["created_at"], 0, 0, False) for v in values]
            return {"rows": tuples, "text": copy_text_of(Question, self.QUESTION_COLUMNS, tuples),
                    "fresh": not select_in(Question, "id", [v["id"] for v in values], ["id"])}
        if self.spec.name == "answers":
            tuples = [(v["id"], v["question"], users[v["author"]], v["text"], render_markdown(v["text"]), v["created_at"],
                       v["is_accepted"], 0) for v in values]
            new_question = {v["id"]: v["question"] for v in values}
            existing = select_in(Answer, "id", new_question, ["id", "question_id"])
            return {"rows": tuples, "text": copy_text_of(Answer, self.ANSWER_COLUMNS, tuples), "fresh": not existing,
                    "moved_from": {q for pk, q in existing if q != new_question[pk]}}
        return {}

    def write(self, rows: list[Row], prepared: dict) -> None:
        """Upsert the rows (see ask.dataio.upsert) and note which counters and pages they changed."""
        values = [r.values for r in rows]
        name = self.spec.name
        users = self.user_ids
        report = self.report
        if name == "users":
            upsert(User, ["email", "display_name", "is_active", "date_joined", "activated_at", "password",
                          "is_superuser", "is_staff", "avatar"],
                   [(v["email"], v["display_name"], v["is_active"], v["date_joined"], v["activated_at"], "!", False, False, "")
                    for v in values],
                   key=["email"], update=["display_name", "is_active", "date_joined", "activated_at"])
        elif name == "tags":
            upsert(Tag, ["name"], [(v["name"],) for v in values], key=["name"])
        elif name == "questions":
            written = upsert(Question, self.QUESTION_COLUMNS, prepared["rows"], key=["id"],
                             update=["author_id", "title", "text", "text_html", "created_at"], returning=["id"],
                             fresh=prepared["fresh"], text=prepared["text"])
            report.pages_changed |= bool(written)
            self._tag(values)
        elif name == "answers":
            written = upsert(Answer, self.ANSWER_COLUMNS, prepared["rows"], key=["id"],
                             update=["question_id", "author_id", "text", "text_html", "created_at", "is_accepted"],
                             returning=["question_id", "is_accepted"], fresh=prepared["fresh"], text=prepared["text"])
            for question, accepted, inserted in written:
                report.note_written("answers", question, inserted, 1, int(accepted))
            report.touched["answers"].update(prepared["moved_from"])
            report.pages_changed |= bool(written)
        elif name == "votes":
            for target, model in (("question", QuestionVote), ("answer", AnswerVote)):
                written = upsert(model, [f"{target}_id", "user_id", "value", "created_at"],
                                 [(v["target_id"], users[v["user"]], v["value"], v["created_at"])
                                  for v in values if v["target"] == target],
                                 key=[f"{target}_id", "user_id"], update=["value", "created_at"],
                                 returning=[f"{target}_id", "value"])
                for pk, value, inserted in written:
                    report.note_written(f"{target} votes", pk, inserted, value)
                report.pages_changed |= bool(written)
        elif name == "restaurants":
            upsert(Restaurant, ["slug", "name", "integration", "opens_at", "closes_at", "webhook_token_hash", "sim_cook_seconds"],
                   [(v["slug"], v["name"], v["integration"], v["opens_at"], v["closes_at"], "",
                     Restaurant._meta.get_field("sim_cook_seconds").default) for v in values],
                   key=["slug"], update=["name", "integration", "opens_at", "closes_at"])
        elif name == "dishes":
            restaurants = dict(Restaurant.objects.filter(slug__in={v["restaurant"] for v in values}).values_list("slug", "pk"))
            upsert(Dish, ["restaurant_id", "name", "price", "available"],
                   [(restaurants[v["restaurant"]], v["name"], v["price"], v["available"]) for v in values],
                   key=["restaurant_id", "name"], update=["price", "available"])
        elif name == "orders":
            upsert(Order, ["id", "customer_id", "eta", "status", "total", "address", "delivery_provider", "created_at",
                           "delivered_at", "delayed_minutes"],
                   [(v["id"], users[v["customer"]], v["eta"], v["status"], v["total"], v["address"], v["delivery_provider"],
                     v["created_at"], v["delivered_at"], v["delayed_minutes"]) for v in values],
                   key=["id"], update=["customer_id", "eta", "status", "total", "address", "delivery_provider",
                                       "created_at", "delivered_at", "delayed_minutes"])
            self._items(values)

    def _tag(self, values: list[dict]) -> None:
        """Give each question of the batch exactly the tags of its row."""
        wanted = {(v["id"], t) for v in values for t in v["tags"].split()}
        upsert(Tag, ["name"], [(n,) for n in {t for _, t in wanted}], key=["name"])
        tag_ids = dict(Tag.objects.filter(name__in={t for _, t in wanted}).values_list("name", "pk"))
        pairs = {(q, tag_ids[t]) for q, t in wanted}
        through = Question.tags.through
        have = through.objects.filter(question_id__in=[v["id"] for v in values])
        through.objects.filter(pk__in=[pk for pk, q, t in have.values_list("pk", "question_id", "tag_id")
                                       if (q, t) not in pairs]).delete()
        upsert(through, ["question_id", "tag_id"], sorted(pairs), key=["question_id", "tag_id"])

    def _items(self, values: list[dict]) -> None:
        """Give each order of the batch exactly the items of its row (items have no key of their own)."""
        dishes = self.dish_ids
        wanted = [(v["id"], dishes[(i["restaurant"], i["dish"])], int(i["quantity"]), Decimal(str(i["price"])))
                  for v in values for i in v["items"]]
        have = OrderItem.objects.filter(order_id__in=[v["id"] for v in values]).order_by("order_id", "pk")
        if list(have.values_list("order_id", "dish_id", "quantity", "price")) != sorted(wanted, key=lambda item: item[0]):
            have.delete()
            OrderItem.objects.bulk_create([OrderItem(order_id=o, dish_id=d, quantity=q, price=p) for o, d, q, p in wanted])

    def finish(self) -> None:
        """After explicit ids: move the id sequences past them (PostgreSQL)."""
        tables = {"questions": "ask_question", "answers": "ask_answer", "orders": "orders_order"}
        if self.spec.name in tables and connection.vendor == "postgresql":
            table = tables[self.spec.name]
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"GREATEST((SELECT MAX(id) FROM {table}), 1))")
