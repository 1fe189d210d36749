"""import_stackexchange: a Stack Exchange data dump folder (the public schema of Posts.xml, Users.xml,
Tags.xml, Votes.xml) into users, questions, answers, tags, votes and accepted answers.

The XML is streamed (iterparse, each row dropped once read), so dumps of several GB work in
constant memory but for maps of ids (a first import into a site without posts keeps one more, of
every post it made: see into_empty_tables). Only Posts.xml is required: without Users.xml the owners
become placeholder users; without Votes.xml each post gets as many votes as its Score says. Dump
users have no e-mail or password: they become accounts `se-ID@SOURCE.invalid` that cannot log in.
A re-run updates what an earlier run made (ImportedPost, user e-mails) and adds nothing twice.
"""
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Iterator

import nh3
from django.db import connection, transaction

from accounts.models import User
from ask.core.bulk import update_changed
from ask.core.caching import bump
from ask.core.indexes_after import indexes_after
from ask.qa.cache_keys import BULK_VERSION, LISTS_VERSION
from ask.qa.counters import RECALC_BATCH_SIZE, counters_recalculate
from ask.qa.models import Answer, AnswerVote, ImportedPost, Question, QuestionVote, Tag
from ask.qa.text import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, TAG_FORMAT

BATCH = 1000  # posts per transaction
SE_TABLES = ["ask_question", "ask_question_tags", "ask_answer", "ask_importedpost", "ask_questionvote",
             "ask_answervote"]
UP, DOWN = "2", "3"  # VoteTypeId of up- and down-votes in the public schema


class DumpProblem(Exception):
    """The folder or a file of it cannot be read; says which and where."""


@dataclass
class SeReport:
    users: int = 0
    questions: int = 0
    answers: int = 0
    votes: int = 0
    accepted: int = 0
    skipped: dict = field(default_factory=lambda: defaultdict(int))
    questions_in_all: int = 0


def _rows(path: Path) -> Iterator[dict]:
    try:
        for _, element in ET.iterparse(path, events=("end",)):
            if element.tag == "row":
                yield dict(element.attrib)
                element.clear()
    except ET.ParseError as error:
        raise DumpProblem(f"{path}: not well-formed XML ({error})") from None


def _when(raw: str | None) -> datetime:
    if not raw:
        return datetime(2008, 1, 1, tzinfo=dt_timezone.utc)
    return datetime.fromisoformat(raw).replace(tzinfo=dt_timezone.utc)  # dumps are in UTC


def _clean(html: str) -> tuple[str, str]:
    """(plain text for search, safe HTML for display) of a post body."""
    safe = nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="nofollow noopener")
    return nh3.clean(html or "", tags=set()), safe


def _tags(raw: str | None) -> list[str]:
    names = re.findall(r"<([^<>]+)>", raw or "") or (raw or "").strip("|").split("|")
    return [n.lower() for n in names if n and TAG_FORMAT.match(n.lower())]


class Importer:
    def __init__(self, folder: Path, source: str) -> None:
        self.folder, self.source = folder, source
        self.report = SeReport()
        self.users: dict[str, int] = {}  # dump user id -> our user id
        self.names: set[str] = set(n.lower() for n in User.objects.values_list("display_name", flat=True))
        self.has_votes = (folder / "Votes.xml").is_file()
        self.scores: dict[str, int] = {}
        # Into a site without posts the tables are bared (into_empty_tables), ImportedPost's index
        # too: which post became what is then kept here, where every row this run made is.
        self.bare = False
        self.made: dict[tuple[str, str], int] = {}  # ("question_id" or "answer_id", post id) -> our id

    def email(self, dump_id: str) -> str:
        return f"se-{dump_id}@{self.source}.invalid"

    def user(self, dump_id: str | None, name: str | None = None, joined: datetime | None = None) -> int:
        """Our id of the dump's user, made (or found) on first sight."""
        dump_id = dump_id or "community"
        if dump_id in self.users:
            return self.users[dump_id]
        found = User.objects.filter(email=self.email(dump_id)).values_list("pk", flat=True).first()
        if found is None:
            display = (name or f"user{dump_id}")[:30]
            if display.lower() in self.names:
                display = f"{display[:24]}_{dump_id}"[:40]
            self.names.add(display.lower())
            joined = joined or _when(None)
            found = User.objects.create(email=self.email(dump_id), display_name=display, password="!",
                                        date_joined=joined, activated_at=joined).pk
            self.report.users += 1
        self.users[dump_id] = found
        return found

    def run(self) -> SeReport:
        posts = self.folder / "Posts.xml"
        if not posts.is_file():
            raise DumpProblem(f"{self.folder}: no Posts.xml (the one file a dump must have)")
        users_file = self.folder / "Users.xml"
        if users_file.is_file():
            with transaction.atomic():
                for row in _rows(users_file):
                    self.user(row.get("Id"), row.get("DisplayName"), _when(row.get("CreationDate")))
        tags_file = self.folder / "Tags.xml"
        if tags_file.is_file():
            names = [n for row in _rows(tags_file) for n in _tags(f"<{row.get('TagName', '')}>")]
            Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
        accepted: dict[str, str] = {}
        batch: list[dict] = []
        for row in _rows(posts):
            kind = row.get("PostTypeId")
            if kind not in ("1", "2"):
                self.report.skipped[f"posts of type {kind}"] += 1
                continue
            if kind == "1" and row.get("AcceptedAnswerId"):
                accepted[row["Id"]] = row["AcceptedAnswerId"]
            batch.append(row)
            if len(batch) >= BATCH:
                self._posts(batch)
                batch = []
        self._posts(batch)
        self._votes()
        self._accept(accepted)
        return self.report

    def _known(self, ids: list[str], kind: str) -> dict[str, int]:
        field_name = "question_id" if kind == "question" else "answer_id"
        if self.bare:
            return {i: self.made[field_name, i] for i in ids if (field_name, i) in self.made}
        return {str(post): local for post, local in ImportedPost.objects.filter(
            source=self.source, post_id__in=[int(i) for i in ids]).exclude(**{field_name: None})
            .values_list("post_id", field_name)}

    @transaction.atomic
    def _posts(self, rows: list[dict]) -> None:
        """A batch of posts, each kind written with a few statements whatever the batch's size (one
        INSERT or UPDATE per row made 80,000 posts take 150 s)."""
        self._questions([r for r in rows if r["PostTypeId"] == "1"])
        self._answers([r for r in rows if r["PostTypeId"] == "2"])
        if not self.has_votes:  # kept only when the votes must come from the scores
            self.scores.update({r["Id"]: int(r.get("Score") or 0) for r in rows})

    def _questions(self, rows: list[dict]) -> None:
        known = self._known([r["Id"] for r in rows], "question")
        posts = {}
        for row in rows:
            text, html = _clean(row.get("Body", ""))
            posts[row["Id"]] = Question(
                pk=known.get(row["Id"]), author_id=self.user(row.get("OwnerUserId"), row.get("OwnerDisplayName")),
                title=(row.get("Title") or "(untitled)")[:200], text=text, text_html=html,
                created_at=_when(row.get("CreationDate")))
        made = self._save(Question, posts, known, "question_id", ["author_id", "title", "text", "text_html",
                                                                  "created_at"])
        self.report.questions += made
        tags = {row["Id"]: _tags(row.get("Tags")) for row in rows}  # a repeated Id: its last row, as posts
        names = {name for names in tags.values() for name in names}
        Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        through = Question.tags.through
        through.objects.filter(question_id__in=known.values()).delete()  # re-run: the dump's tags, exactly
        through.objects.bulk_create([through(question_id=posts[post].pk, tag_id=tag_ids[name])
                                     for post, names in tags.items() for name in dict.fromkeys(names)])

    def _answers(self, rows: list[dict]) -> None:
        parents = self._known([r.get("ParentId", "0") for r in rows], "question")
        known = self._known([r["Id"] for r in rows], "answer")
        posts = {}
        for row in rows:
            if row.get("ParentId") not in parents:
                self.report.skipped["answers to unknown questions"] += 1
                continue
            text, html = _clean(row.get("Body", ""))
            posts[row["Id"]] = Answer(
                pk=known.get(row["Id"]), question_id=parents[row["ParentId"]], text=text, text_html=html,
                author_id=self.user(row.get("OwnerUserId"), row.get("OwnerDisplayName")),
                created_at=_when(row.get("CreationDate")))
        self.report.answers += self._save(Answer, posts, known, "answer_id",
                                          ["question_id", "text", "text_html", "author_id", "created_at"])

    def _save(self, model, posts: dict, known: dict, mapped: str, fields: list[str]) -> int:
        """Update the posts an earlier run made (those that changed: a re-run of the same dump writes
        none), insert the others with their ImportedPost; how many were new."""
        update_changed(model, fields, [(p.pk, *(getattr(p, f) for f in fields)) for post, p in posts.items()
                                       if post in known])
        new = {post: p for post, p in posts.items() if post not in known}
        model.objects.bulk_create(new.values())  # sets their ids (PostgreSQL, SQLite)
        ImportedPost.objects.bulk_create([ImportedPost(source=self.source, post_id=int(post), **{mapped: p.pk})
                                          for post, p in new.items()])
        if self.bare:
            self.made.update(((mapped, post), p.pk) for post, p in new.items())
        return len(new)

    def _votes(self) -> None:
        """Votes from Votes.xml (voters are anonymous in dumps: voter k is the k-th voter of a post),
        or, without it, as many as each post's Score. Replaces what an earlier run imported."""
        per_post: dict[str, list[int]] = defaultdict(list)
        if self.has_votes:
            for row in _rows(self.folder / "Votes.xml"):
                if row.get("VoteTypeId") in (UP, DOWN):
                    per_post[row["PostId"]].append(1 if row["VoteTypeId"] == UP else -1)
        else:
            for post, score in self.scores.items():
                per_post[post] = [1 if score > 0 else -1] * abs(score)
        with transaction.atomic():
            mapping = ImportedPost.objects.filter(source=self.source)
            questions = {str(p): q for p, q in mapping.exclude(question_id=None).values_list("post_id", "question_id")}
            answers = {str(p): a for p, a in mapping.exclude(answer_id=None).values_list("post_id", "answer_id")}
            if not self.bare:  # else there are none
                self._votes_forget(questions, answers)
            most = max((len(v) for v in per_post.values()), default=0)
            voters = [self.user(f"voter-{k}", f"voter{k}") for k in range(most)]
            qv, av = [], []
            for post, values in per_post.items():
                for k, value in enumerate(values):
                    if post in questions:
                        qv.append(QuestionVote(question_id=questions[post], user_id=voters[k], value=value,
                                               created_at=_when(None)))
                    elif post in answers:
                        av.append(AnswerVote(answer_id=answers[post], user_id=voters[k], value=value,
                                             created_at=_when(None)))
            QuestionVote.objects.bulk_create(qv, batch_size=5000)
            AnswerVote.objects.bulk_create(av, batch_size=5000)
            self.report.votes = len(qv) + len(av)

    def _votes_forget(self, questions: dict, answers: dict) -> None:
        """Delete the votes an earlier run imported on these posts."""
        voters = {"user__email__endswith": f"@{self.source}.invalid", "user__email__startswith": "se-voter-"}
        QuestionVote.objects.filter(question_id__in=questions.values(), **voters).delete()
        AnswerVote.objects.filter(answer_id__in=answers.values(), **voters).delete()

    def _accept(self, accepted: dict[str, str]) -> None:
        with transaction.atomic():
            answers = {str(p): a for p, a in ImportedPost.objects.filter(source=self.source).exclude(answer_id=None)
                       .values_list("post_id", "answer_id")}
            chosen = [answers[a] for a in accepted.values() if a in answers]
            # Only the answers whose mark changes: a re-run of the same dump writes none.
            Answer.objects.filter(pk__in=answers.values(), is_accepted=True).exclude(pk__in=chosen) \
                .update(is_accepted=False)
            Answer.objects.filter(pk__in=chosen, is_accepted=False).update(is_accepted=True)
            self.report.accepted = len(chosen)


@contextmanager
def into_empty_tables(importer: Importer):
    """A first import into a site without posts loads as pg_restore does: one transaction (a first
    import stopped half-way leaves no half), the post and vote tables without their indexes and
    unique constraints until the end (ask.core.indexes_after). Foreign keys stay: dropping them
    would lock the users table, and log-ins with it, for the whole import. Otherwise: batches as
    they come, each committed."""
    if connection.vendor != "postgresql" or Question.objects.exists():
        yield
        return
    with transaction.atomic(), indexes_after(SE_TABLES, foreign_keys=False) as bare:
        importer.bare = "ask_importedpost" in bare
        yield


def stackexchange_import(*, folder: Path, source: str | None = None) -> SeReport:
    """Import the dump folder (source: the dump's site, default the folder's name), rebuild the
    counters from the rows and make cached pages stale. Raises DumpProblem naming what is wrong."""
    if not folder.is_dir():
        raise DumpProblem(f"{folder}: no such folder.")
    importer = Importer(folder, source or folder.resolve().name)
    with into_empty_tables(importer):
        report = importer.run()
    counters_recalculate(batch_size=RECALC_BATCH_SIZE, dry_run=False)
    bump(LISTS_VERSION, BULK_VERSION)  # cached lists and question pages show the imported posts
    report.questions_in_all = Question.objects.count()
    return report
