"""fill_db: a realistic Q&A data set of any size, written in bulk (COPY on PostgreSQL).

RATIO users, 10×RATIO questions, 100×RATIO answers, RATIO tags and about 200×RATIO votes (fewer
when there are too few users to give each post distinct voters other than its author). Dates are
spread over the last year, answers after their question and votes after their post; ratings, answer
counts and accepted flags agree with the rows. Memory stays flat in the text: per row only a few
numbers are kept (arrays); the votes are written first, each post's total kept as they go, and the
posts after them with their ratings (foreign keys are checked at the commit, or built after).

Into empty tables it loads as pg_restore does (ask.core.indexes_after), and makes rows while the
last chunk loads (ask.core.copy_pipe).
"""
import random
from array import array
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import accumulate

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.bulk import USER_COLUMNS, user_row
from accounts.models import User
from ask.core.bulk import RowWriter, analyze, reserve_ids
from ask.core.caching import bump
from ask.core.copy_pipe import CopyPipe
from ask.core.indexes_after import indexes_after
from ask.qa.cache_keys import LISTS_VERSION
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote, Tag
from ask.qa.text import render_markdown

FILL_EMAIL_DOMAIN = "fill.example.com"  # how --clear finds the users fill_db made
QUESTION_VOTE_SHARE = 0.25  # a quarter of the votes go to questions, the rest to answers
ACCEPTED_SHARE = 0.4  # questions with answers that have one accepted
YEAR_SECONDS = 365 * 24 * 3600
FILLED_TABLES = ["accounts_user", "ask_tag", "ask_question", "ask_question_tags", "ask_answer", "ask_questionvote",
                 "ask_answervote"]

FIRST_NAMES = ("ada alan anna barbara boris carl chen dana diego elena emil farah grace hana ivan jun kai "
               "lena liam maya mia nadia nils olga omar pia ravi rosa sami sara tom uma vera wei yara zoe").split()
TECH = ("python django postgresql sql memcached redis linux nginx gunicorn docker git bash javascript css "
        "html react vue typescript rust go java kotlin swift regex json csv unicode cron systemd ssh tls "
        "http rest graphql celery pandas numpy asyncio threading pytest logging caching unittest orm "
        "migrations templates forms sessions cookies oauth jwt websocket kubernetes terraform ansible").split()
VERBS = ("parse sort cache index migrate deploy debug profile serialize validate paginate escape encode "
         "decode stream compress schedule lock retry log test mock configure install upgrade").split()
NOUNS = ("a list a dictionary a query a queryset a timestamp a time zone a large file a foreign key a "
         "unique constraint a background job a template a form a date range a nested object an API "
         "response a CSV export a cache key a connection pool a session a password hash a search index "
         "a deadlock a slow query a memory leak a race condition").split(" a ")
TITLES = (
    "How do I {verb} {noun} in {tech}?", "Why does {tech} fail to {verb} {noun}?",
    "What is the fastest way to {verb} {noun} with {tech}?", "{tech}: how to {verb} {noun} safely?",
    "Best practice to {verb} {noun} in {tech} and {tech2}?", "Can {tech} {verb} {noun} without blocking?",
)
SENTENCES = (
    "I tried to {verb} {noun} with {tech} but it gets slower as the table grows.",
    "The documentation of {tech} says to {verb} {noun} first, which works in development.",
    "In production the same code fails once in a while with a timeout.",
    "Using {tech2} instead helps a little, though memory keeps growing.",
    "Here is what I ran, and the error message points at {noun}.",
    "You can {verb} {noun} in batches, which keeps memory flat.",
    "Wrap it in a transaction so nothing is half-written when it fails.",
    "An index on the column you filter by makes this fast again.",
    "This is a known limitation of {tech}; upgrading fixed it for me.",
    "Measure before and after: the difference is usually the number of queries.",
)


def _sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES).format(verb=rng.choice(VERBS), noun="a " + rng.choice(NOUNS).strip(),
                                        tech=rng.choice(TECH), tech2=rng.choice(TECH))


SENTENCE_POOL = 5000  # distinct sentences texts are made of: variety enough, and 10x faster than new ones


def _text(rng: random.Random, pool: list[str]) -> str:
    # int(random() * n) rather than randint: the same spread, a quarter of the time (fill_db's hot loops).
    draw = rng.random
    return "\n\n".join(" ".join(rng.choices(pool, k=2 + int(draw() * 3))) for _ in range(1 + int(draw() * 3)))


def _title(rng: random.Random) -> str:
    title = rng.choice(TITLES).format(verb=rng.choice(VERBS), noun="a " + rng.choice(NOUNS).strip(),
                                      tech=rng.choice(TECH), tech2=rng.choice(TECH))
    return title[0].upper() + title[1:]


@dataclass
class FillResult:
    users: int = 0
    tags: int = 0
    questions: int = 0
    answers: int = 0
    votes: int = 0
    cleared: dict = field(default_factory=dict)  # what --clear deleted, by kind

    @property
    def rows(self) -> int:
        return self.users + self.tags + self.questions + self.answers + self.votes


def foreign_content() -> dict:
    """What --clear would delete that fill_db did not make: questions, answers and votes of other
    users (real members, imported ones), by count; empty when everything is fill_db's."""
    made = Q(email__endswith="@" + FILL_EMAIL_DOMAIN)
    counts = {
        "questions": Question.objects.exclude(author__in=User.objects.filter(made)).count(),
        "answers": Answer.objects.exclude(author__in=User.objects.filter(made)).count(),
        "votes": (QuestionVote.objects.exclude(user__in=User.objects.filter(made)).count()
                  + AnswerVote.objects.exclude(user__in=User.objects.filter(made)).count()),
    }
    return {name: count for name, count in counts.items() if count}


def _qa_models() -> list:
    return list(apps.get_app_config("ask").get_models(include_auto_created=True))


def qa_clear() -> dict:
    """Delete every row of the Q&A app's tables (questions, answers, tags, votes and all that hangs
    on them: revisions, flags, follows, digests, ...), and the users fill_db made. The tables come
    from the app's models, so one added later is cleared too."""
    with transaction.atomic():
        counts = {"votes": QuestionVote.objects.count() + AnswerVote.objects.count(), "answers": Answer.objects.count(),
                  "questions": Question.objects.count(), "tags": Tag.objects.count()}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Deferred foreign-key checks of rows written earlier in this transaction must run
                # before TRUNCATE, which refuses tables with pending trigger events.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("TRUNCATE " + ", ".join(model._meta.db_table for model in _qa_models()))
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declares them, for what follows
        else:
            for model in _qa_models():
                model.objects.all().delete()  # the ORM follows the cascades, whatever the order
        made = User.objects.filter(email__endswith="@" + FILL_EMAIL_DOMAIN)
        counts["users"] = made.delete()[1].get("accounts.User", 0)
    transaction.on_commit(lambda: bump(LISTS_VERSION))
    return counts


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` spread over `parts` as evenly as possible, the extra ones at random places."""
    if parts == 0:
        return []
    base, extra = divmod(total, parts)
    counts = [base] * parts
    for index in rng.sample(range(parts), extra):
        counts[index] += 1
    return counts


@dataclass
class _Plan:
    """Who wrote each post and when (seconds since the epoch), as compact arrays, and the counters
    that follow from them: everything but the texts, decided before a row is written."""

    ratio: int
    epoch_now: int
    q_author: array
    q_created: array
    a_question: array
    a_author: array
    a_created: array
    answer_count: array
    accepted_answer: dict[int, int]  # question index -> index of its accepted answer
    q_rating: array = None
    a_rating: array = None


def _plan(rng: random.Random, ratio: int, epoch_now: int) -> _Plan:
    n_users, n_questions, n_answers = ratio, 10 * ratio, 100 * ratio
    draw = rng.random  # int(draw() * n): randrange(n)'s spread, a quarter of the time
    q_author = array("l", (int(draw() * n_users) for _ in range(n_questions)))
    # Sorted, so ids follow dates like on a live site (the "new" list is by id).
    q_created = array("l", sorted(epoch_now - int(draw() * YEAR_SECONDS) for _ in range(n_questions)))
    a_question = array("l", (int(draw() * n_questions) for _ in range(n_answers)))
    a_author = array("l", (int(draw() * n_users) for _ in range(n_answers)))
    a_created = array("l", (q_created[q] + int(draw() * min(30 * 86400, epoch_now - q_created[q])) for q in a_question))
    answer_count = array("l", [0] * n_questions)
    for q in a_question:
        answer_count[q] += 1
    accepted_answer: dict[int, int] = {}
    for a, q in enumerate(a_question):
        if q not in accepted_answer and rng.random() < ACCEPTED_SHARE:
            accepted_answer[q] = a
    return _Plan(ratio, epoch_now, q_author, q_created, a_question, a_author, a_created, answer_count,
                 accepted_answer)


def qa_fill(*, ratio: int, seed: int | None = None, progress=None, clear: bool = False) -> FillResult:
    """Write the data set in one transaction (all or nothing); progress(rows) is called per chunk.
    clear: qa_clear() first, in the same transaction, so a fill stopped half-way keeps what was there."""
    rng = random.Random(seed)
    now = timezone.now()
    result = FillResult()
    pool = [_sentence(rng) for _ in range(SENTENCE_POOL)]
    plan = _plan(rng, ratio, int(now.timestamp()))
    with transaction.atomic():
        if clear:
            result.cleared = qa_clear()
        user_ids = reserve_ids("accounts_user", ratio)
        tag_ids = reserve_ids("ask_tag", ratio)
        question_ids = reserve_ids("ask_question", 10 * ratio)
        answer_ids = reserve_ids("ask_answer", 100 * ratio)
        taken = set(Tag.objects.values_list("name", flat=True))
        # Into empty tables as pg_restore loads (indexes and keys built after), the rows made while
        # the last chunk loads (CopyPipe): the two overlap on two cores.
        with indexes_after(FILLED_TABLES), _pipe() as pipe:
            out = partial(RowWriter.of, on_flush=progress, pipe=pipe)
            # The votes first, totalled into the posts' ratings as they are written: the foreign keys
            # are checked at the commit (or built after), so the posts may follow.
            result.votes = _write_votes(rng, plan, question_ids, answer_ids, user_ids, now, out)
            result.users = _write_users(rng, user_ids, now, out)
            result.tags = _write_tags(tag_ids, taken, out)
            result.questions = _write_questions(rng, plan, pool, question_ids, user_ids, tag_ids, now, out)
            result.answers = _write_answers(rng, plan, pool, answer_ids, question_ids, user_ids, now, out)
        transaction.on_commit(lambda: bump(LISTS_VERSION))
    analyze([model._meta.db_table for model in _qa_models()] + [User._meta.db_table])
    return result


def _pipe():
    return CopyPipe() if connection.vendor == "postgresql" else nullcontext()


def _write_users(rng: random.Random, user_ids: list[int], now: datetime, out) -> int:
    rows = out(User, USER_COLUMNS)
    epoch_now = int(now.timestamp())
    for pk in user_ids:
        first = rng.choice(FIRST_NAMES)
        joined = datetime.fromtimestamp(epoch_now - YEAR_SECONDS - rng.randrange(YEAR_SECONDS), tz=now.tzinfo)
        rows.write(user_row(pk, f"{first}.{pk}@{FILL_EMAIL_DOMAIN}", f"{first}_{pk}", joined))
    return rows.close()


def _write_tags(tag_ids: list[int], existing: set[str], out) -> int:
    names = set()
    rows = out(Tag, ["id", "name"])
    for index, pk in enumerate(tag_ids):
        name = TECH[index % len(TECH)] + ("" if index < len(TECH) else f"-{index // len(TECH) + 1}")
        while name in existing or name in names:
            name = f"{name}-{pk}"
        names.add(name)
        rows.write((pk, name))
    return rows.close()


def _write_questions(rng, plan: _Plan, pool, question_ids, user_ids, tag_ids, now: datetime, out) -> int:
    # Popular tags are popular: the first tags are picked far more often (weights 1/(rank+1)).
    # Summed once: choices(weights=...) sums them on every call, which made a question cost as many
    # steps as there are tags (fill_db 100000: 1M questions × 100,000 tags).
    tag_weights = list(accumulate(1 / (rank + 1) for rank in range(len(tag_ids))))
    tag_range = range(len(tag_ids))
    rows = out(Question, ["id", "author_id", "title", "text", "text_html", "created_at", "rating", "answer_count",
                          "has_accepted"])
    tag_rows = out(Question.tags.through, ["question_id", "tag_id"])
    for q, pk in enumerate(question_ids):
        text = _text(rng, pool)
        created = datetime.fromtimestamp(plan.q_created[q], tz=now.tzinfo)
        rows.write((pk, user_ids[plan.q_author[q]], _title(rng), text, render_markdown(text), created,
                    plan.q_rating[q], plan.answer_count[q], q in plan.accepted_answer))
        for tag_index in set(rng.choices(tag_range, cum_weights=tag_weights, k=rng.randint(1, 3))):
            tag_rows.write((pk, tag_ids[tag_index]))
    written = rows.close()  # the questions first: their tags refer to them
    tag_rows.close()
    return written


def _write_answers(rng, plan: _Plan, pool, answer_ids, question_ids, user_ids, now: datetime, out) -> int:
    accepted = set(plan.accepted_answer.values())
    rows = out(Answer, ["id", "question_id", "author_id", "text", "text_html", "created_at", "rating", "is_accepted"])
    for a, pk in enumerate(answer_ids):
        text = _text(rng, pool)
        rows.write((pk, question_ids[plan.a_question[a]], user_ids[plan.a_author[a]], text, render_markdown(text),
                    datetime.fromtimestamp(plan.a_created[a], tz=now.tzinfo), plan.a_rating[a], a in accepted))
    return rows.close()


def _write_votes(rng, plan: _Plan, question_ids, answer_ids, user_ids, now: datetime, out) -> int:
    """Every vote, each post's total into plan.q_rating / plan.a_rating."""
    rows = {"q": out(QuestionVote, ["user_id", "question_id", "value", "created_at"]),
            "a": out(AnswerVote, ["user_id", "answer_id", "value", "created_at"])}
    plan.q_rating, plan.a_rating = array("l", [0] * len(question_ids)), array("l", [0] * len(answer_ids))
    ratings, ids = {"q": plan.q_rating, "a": plan.a_rating}, {"q": question_ids, "a": answer_ids}
    for kind, target, voter, value, when in _votes(rng, plan):
        ratings[kind][target] += value
        rows[kind].write((user_ids[voter], ids[kind][target], value, datetime.fromtimestamp(when, tz=now.tzinfo)))
    return rows["q"].close() + rows["a"].close()


def _votes(rng: random.Random, plan: _Plan):
    """(kind, target index, voter index, value, when) for every vote."""
    n_users, epoch_now = plan.ratio, plan.epoch_now
    total = 200 * plan.ratio
    on_questions = int(total * QUESTION_VOTE_SHARE)
    for kind, authors, created, budget in (("q", plan.q_author, plan.q_created, on_questions),
                                           ("a", plan.a_author, plan.a_created, total - on_questions)):
        for target, count in enumerate(_split(budget, len(authors), rng)):
            count = min(count, n_users - 1)  # distinct voters, never the author
            if count <= 0:
                continue
            quality = rng.random()  # how liked this post is: the share of up-votes it gets
            voters = rng.sample(range(n_users), count + 1)
            voters = [v for v in voters if v != authors[target]][:count]
            up, span, draw = 0.35 + 0.6 * quality, epoch_now - created[target], rng.random
            for voter in voters:
                yield kind, target, voter, 1 if draw() < up else -1, created[target] + int(draw() * span)
