"""What export_data and import_data move of the Q&A app: tags, questions, answers and votes.

Counters (ratings, answer counts, accepted flags) are not carried: rows an import inserts add to
them in place, rows it updates have them recounted (ask.qa.counters), batch by batch in the batch's
transaction; cached pages go stale at the end."""
from collections import defaultdict
from datetime import datetime
from typing import Iterator

from accounts.data_specs import UserIds
from ask.core.bulk import as_text
from ask.core.caching import bump
from ask.dataio.exporting import chunks, copy_timestamp, created_since, field_rows
from ask.dataio.files import Row
from ask.dataio.specs import (
    BadValue,
    Spec,
    fits,
    read_bool,
    read_datetime,
    read_int,
    read_required,
    read_text,
    register,
)
from ask.dataio.upsert import copy_text_of, select_in, upsert
from ask.dataio.writer import Rejections, SpecWriter, Written, reject_missing, written_of
from ask.qa.cache_keys import BULK_VERSION, LISTS_VERSION
from ask.qa.counters import counters_add, counters_recount
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote, Tag
from ask.qa.text import MAX_TAGS, TAG_FORMAT, render_markdown

QUESTION_COLUMNS = ["id", "author_id", "title", "text", "text_html", "created_at", "rating", "answer_count",
                    "has_accepted"]
ANSWER_COLUMNS = ["id", "question_id", "author_id", "text", "text_html", "created_at", "is_accepted", "rating"]


def read_tag(raw: str) -> str:
    if not TAG_FORMAT.match(raw):
        raise BadValue(f"{raw!r} is not a tag name (a-z 0-9 + # . -, up to 32)")
    return raw


def read_vote(raw: str) -> int:
    value = read_int(raw)
    if value not in (1, -1):
        raise BadValue(f"{raw!r} is not 1 or -1")
    return value


class QaWriter(SpecWriter):
    """Notes what the written rows change: counters to add to (inserted rows) or to recount
    (updated ones), brought up to date by settle() in each batch's transaction, and whether cached
    pages are stale, which apply() says once at the end."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.users = UserIds()
        self.forget()

    def forget(self) -> None:
        self._forget_counters()
        self.pages_changed = False

    def _forget_counters(self) -> None:
        self.added: dict[str, dict[int, list[int]]] = {"answers": {}, "question votes": {}, "answer votes": {}}
        self.touched: dict[str, set[int]] = {"answers": set(), "question votes": set(), "answer votes": set()}

    def note_written(self, kind: str, pk: int, inserted: bool, *amounts: int) -> None:
        """A row written for counters of `kind` on row pk: an inserted one adds its amounts (summed per
        pk), an updated one has the counters recounted."""
        if inserted:
            sums = self.added[kind].setdefault(pk, [0] * len(amounts))
            for index, amount in enumerate(amounts):
                sums[index] += amount
        else:
            self.touched[kind].add(pk)

    def unsettled(self) -> int:
        return sum(map(len, self.added.values())) + sum(map(len, self.touched.values()))

    def settle(self) -> None:
        counters_add(self.added)
        counters_recount(self.touched)
        self._forget_counters()

    def apply(self) -> None:
        if self.pages_changed:
            bump(LISTS_VERSION, BULK_VERSION)


class TagsWriter(QaWriter):
    def write(self, rows: list[Row], prepared: dict) -> Written:
        return written_of(upsert(Tag, ["name"], [(r.values["name"],) for r in rows], key=["name"],
                                 returning=["name"]))


class QuestionsWriter(QaWriter):
    sequence_tables = ("ask_question",)
    load_tables = ("ask_question", "ask_question_tags")

    def refs(self, rows: list[Row]) -> Rejections:
        bad: Rejections = {}
        values = [r.values for r in rows]
        self.users.check(values, bad, "author")
        for index, value in enumerate(values):
            tags = value["tags"].split()
            wrong = [t for t in tags if not TAG_FORMAT.match(t)]
            if index not in bad and (wrong or len(tags) > MAX_TAGS):
                bad[index] = ("tags", f"bad tag {wrong[0]!r}" if wrong else f"more than {MAX_TAGS} tags")
        return bad

    def prepare(self, rows: list[Row]) -> dict:
        """Markdown, the rows as they stand and their COPY text, while the previous batch is written."""
        values = [r.values for r in rows]
        tuples = [(v["id"], self.users[v["author"]], v["title"], v["text"], render_markdown(v["text"]),
                   v["created_at"], 0, 0, False) for v in values]
        return {"rows": tuples, "text": copy_text_of(Question, QUESTION_COLUMNS, tuples),
                "fresh": self.is_bare(Question) or not select_in(Question, "id", [v["id"] for v in values], ["id"])}

    def write(self, rows: list[Row], prepared: dict) -> Written:
        written = upsert(Question, QUESTION_COLUMNS, prepared["rows"], key=["id"],
                         update=["author_id", "title", "text", "text_html", "created_at"], returning=["id"],
                         fresh=prepared["fresh"], text=prepared["text"])
        retagged = self._tag([r.values for r in rows])
        self.pages_changed |= bool(written or retagged)
        return written_of(written, retagged)

    def _tag(self, values: list[dict]) -> set[int]:
        """Give each question of the batch exactly the tags of its row; the questions whose tags changed."""
        wanted = {(v["id"], t) for v in values for t in v["tags"].split()}
        upsert(Tag, ["name"], [(n,) for n in {t for _, t in wanted}], key=["name"])
        tag_ids = dict(Tag.objects.filter(name__in={t for _, t in wanted}).values_list("name", "pk"))
        pairs = {(q, tag_ids[t]) for q, t in wanted}
        through, dropped = Question.tags.through, []
        if not self.is_bare(through):  # else the questions are new: no tags to take away
            have = through.objects.filter(question_id__in=[v["id"] for v in values])
            dropped = [(pk, q) for pk, q, t in have.values_list("pk", "question_id", "tag_id") if (q, t) not in pairs]
            through.objects.filter(pk__in=[pk for pk, _ in dropped]).delete()
        added = upsert(through, ["question_id", "tag_id"], sorted(pairs), key=["question_id", "tag_id"],
                       returning=["question_id", "tag_id"], fresh=self.is_bare(through))
        return {q for _, q in dropped} | {q for q, _, _ in added}


class AnswersWriter(QaWriter):
    sequence_tables = ("ask_answer",)
    load_tables = ("ask_answer",)

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.question_ids: set[int] = set()  # questions found by earlier batches
        self.accepted: dict[int, int] = {}  # question -> its accepted answer, as far as this import knows

    def refs(self, rows: list[Row]) -> Rejections:
        bad: Rejections = {}
        values = [r.values for r in rows]
        self.users.check(values, bad, "author")
        unknown = {v["question"] for v in values} - self.question_ids
        if unknown:
            self.question_ids.update(pk for pk, in select_in(Question, "id", unknown, ["id"]))
        reject_missing(values, bad, "question", self.question_ids, "question")
        self._one_accepted(values, bad)
        return bad

    def _one_accepted(self, values: list[dict], bad: Rejections) -> None:
        """A question has one accepted answer at most. An import does not move the mark from one answer
        to another (the rows are written in one statement, in no guaranteed order): it can only clear it."""
        accepting = {v["question"] for i, v in enumerate(values) if v["is_accepted"] and i not in bad}
        accepted = self.accepted
        if not self.is_bare(Answer):  # else what this import accepted is all there is
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

    def prepare(self, rows: list[Row]) -> dict:
        values = [r.values for r in rows]
        tuples = [(v["id"], v["question"], self.users[v["author"]], v["text"], render_markdown(v["text"]),
                   v["created_at"], v["is_accepted"], 0) for v in values]
        new_question = {v["id"]: v["question"] for v in values}
        existing = [] if self.is_bare(Answer) else select_in(Answer, "id", new_question, ["id", "question_id"])
        return {"rows": tuples, "text": copy_text_of(Answer, ANSWER_COLUMNS, tuples), "fresh": not existing,
                "moved_from": {q for pk, q in existing if q != new_question[pk]}}

    def write(self, rows: list[Row], prepared: dict) -> Written:
        written = upsert(Answer, ANSWER_COLUMNS, prepared["rows"], key=["id"],
                         update=["question_id", "author_id", "text", "text_html", "created_at", "is_accepted"],
                         returning=["id", "question_id", "is_accepted"], fresh=prepared["fresh"],
                         text=prepared["text"])
        for _, question, accepted, inserted in written:
            self.note_written("answers", question, inserted, 1, int(accepted))
        self.touched["answers"].update(prepared["moved_from"])
        self.pages_changed |= bool(written)
        return written_of(written)


VOTE_TARGETS = (("question", Question, QuestionVote), ("answer", Answer, AnswerVote))


class VotesWriter(QaWriter):
    load_tables = ("ask_questionvote", "ask_answervote")

    def refs(self, rows: list[Row]) -> Rejections:
        bad: Rejections = {}
        values = [r.values for r in rows]
        self.users.check(values, bad, "user")
        for index, value in enumerate(values):
            if index not in bad and value["target"] not in ("question", "answer"):
                bad[index] = ("target", f"{value['target']!r} is not question or answer")
        for target, model, _ in VOTE_TARGETS:
            ids = {v["target_id"] for i, v in enumerate(values) if v["target"] == target and i not in bad}
            found = {pk for pk, in select_in(model, "id", ids, ["id"])}
            for index, value in enumerate(values):
                if index not in bad and value["target"] == target and value["target_id"] not in found:
                    bad[index] = ("target_id", f"no {target} {value['target_id']}")
        return bad

    def write(self, rows: list[Row], prepared: dict) -> Written:
        values, done = [r.values for r in rows], Written()
        for target, _, model in VOTE_TARGETS:
            written = upsert(model, [f"{target}_id", "user_id", "value", "created_at"],
                             [(v["target_id"], self.users[v["user"]], v["value"], v["created_at"])
                              for v in values if v["target"] == target],
                             key=[f"{target}_id", "user_id"], update=["value", "created_at"],
                             returning=[f"{target}_id", "user_id", "value"], fresh=self.is_bare(model))
            for pk, _, value, inserted in written:
                self.note_written(f"{target} votes", pk, inserted, value)
            self.pages_changed |= bool(written)
            done += written_of([((pk, user), inserted) for pk, user, _, inserted in written])
        return done


def question_rows(since: datetime | None) -> Iterator[list[str]]:
    fields = ["author__email", "title", "text", "created_at"]
    for chunk in chunks(created_since(Question.objects.all(), "created_at", since), fields):
        tags = defaultdict(list)
        for question_id, tag in (Question.tags.through.objects.filter(question_id__in=[r["pk"] for r in chunk])
                                 .order_by("tag__name").values_list("question_id", "tag__name")):
            tags[question_id].append(tag)
        for r in chunk:
            yield [as_text(r["pk"]), *(as_text(r[f]) for f in fields), " ".join(tags[r["pk"]])]


def vote_rows(since: datetime | None) -> Iterator[list[str]]:
    for target, _, model in VOTE_TARGETS:
        for row in field_rows(model.objects.all(), [f"{target}_id", "user__email", "value", "created_at"],
                              "created_at", since):
            yield [target, *row]


register(
    Spec("tags", ("name",), {"name": read_tag}, writer=TagsWriter,
         rows=lambda since: field_rows(Tag.objects.all(), ["name"]),
         copy_select="SELECT name FROM ask_tag ORDER BY id"),
    Spec("questions", ("id",),
         {"id": fits(Question, "id", read_int), "author": read_required, "title": fits(Question, "title"),
          "text": read_required, "created_at": read_datetime, "tags": read_text},
         rows=question_rows, writer=QuestionsWriter, since_field="created_at", copy_since="q.created_at",
         copy_select=("SELECT q.id, u.email, q.title, q.text, " + copy_timestamp("q.created_at") + ", "
                      "coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name) FROM ask_question_tags qt "
                      "JOIN ask_tag t ON t.id = qt.tag_id WHERE qt.question_id = q.id), '') FROM ask_question q "
                      "JOIN accounts_user u ON u.id = q.author_id {where} ORDER BY q.id")),
    Spec("answers", ("id",),
         {"id": fits(Answer, "id", read_int), "question": read_int, "author": read_required, "text": read_required,
          "created_at": read_datetime, "is_accepted": read_bool},
         rows=lambda since: field_rows(Answer.objects.all(), ["pk", "question_id", "author__email", "text",
                                                              "created_at", "is_accepted"], "created_at", since),
         writer=AnswersWriter, since_field="created_at", copy_since="a.created_at",
         copy_select=("SELECT a.id, a.question_id, u.email, a.text, " + copy_timestamp("a.created_at") + ", "
                      "a.is_accepted::text FROM ask_answer a JOIN accounts_user u ON u.id = a.author_id "
                      "{where} ORDER BY a.id")),
    Spec("votes", ("target", "target_id", "user"),
         {"target": read_required, "target_id": read_int, "user": read_required, "value": read_vote,
          "created_at": read_datetime},
         rows=vote_rows, writer=VotesWriter, since_field="created_at"),
)
