"""The denormalised counters of the Q&A tables (ratings, answer counts, accepted flags): rebuilt
from the votes and answers (recalc_ratings), recounted for the rows an import touched, or added to in
place for the rows it inserted."""
from dataclasses import dataclass
from typing import Iterable

from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ask.core.bulk import among, update_from_values
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote

# Questions per batch when rebuilding counters: 5,000 questions with their answers ≈ 1 s of reading.
RECALC_BATCH_SIZE = 5000
# Rows locked at once when fixing wrong counters: a few milliseconds of lock per chunk.
FIX_CHUNK = 200


def _vote_sum(model, field: str):
    return Coalesce(Subquery(model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
                             .annotate(s=Sum("value")).values("s")), Value(0), output_field=IntegerField())


def _answer_count():
    counted = Answer.objects.filter(question=OuterRef("pk"), hidden_at=None)
    return Coalesce(Subquery(counted.order_by().values("question")
                             .annotate(c=Count("pk")).values("c")), Value(0), output_field=IntegerField())


def counters_recalculate(*, batch_size: int, dry_run: bool, on_batch=None) -> dict:
    """Rebuild every question's rating and answer count and every answer's rating from the rows.

    Works by primary-key ranges so memory stays flat; returns how many counters were wrong. Each
    range is compared without a lock (one consistent snapshot per statement: a vote moves the row
    and its counter in one transaction); only the rows found wrong are then locked and recounted,
    FIX_CHUNK at a time (counters_recount), so a member voting meanwhile never waits on this job
    for more than a few milliseconds. (It held FOR UPDATE on 5,000 questions with all their answers
    while it computed: a vote waited up to 400 ms, and a batch sat idle in transaction for 12 s.)
    """
    wrong = {"question ratings": 0, "answer counts": 0, "answer ratings": 0, "accepted flags": 0}
    last = 0
    while True:
        ids = list(Question.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return wrong
        last = ids[-1]
        found = _wrong_counters(ids)
        for name, rows in found.items():
            wrong[name] += len(rows)
        if not dry_run:
            counters_recount({"answers": found["answer counts"] | found["accepted flags"],
                              "question votes": found["question ratings"], "answer votes": found["answer ratings"]},
                             batch_size=FIX_CHUNK)
        if on_batch:
            on_batch(len(ids))


def _wrong_counters(ids: list[int]) -> dict[str, set[int]]:
    """The questions (and answers of them) in ids whose counters disagree with their rows, read
    without locks."""
    questions = Question.objects.filter(pk__in=ids).annotate(
        true_rating=_vote_sum(QuestionVote, "question"), true_answers=_answer_count(),
    ).values_list("pk", "rating", "true_rating", "answer_count", "true_answers", "has_accepted")
    accepted = set(Answer.objects.filter(question_id__in=ids, is_accepted=True, hidden_at=None)
                   .values_list("question_id", flat=True))
    found: dict[str, set[int]] = {"question ratings": set(), "answer counts": set(), "accepted flags": set()}
    for pk, rating, true_rating, count, true_count, has_accepted in questions:
        if rating != true_rating:
            found["question ratings"].add(pk)
        if count != true_count:
            found["answer counts"].add(pk)
        if has_accepted != (pk in accepted):
            found["accepted flags"].add(pk)
    answers = Answer.objects.filter(question_id__in=ids).annotate(true_rating=_vote_sum(AnswerVote, "answer"))
    found["answer ratings"] = {pk for pk, rating, true in answers.values_list("pk", "rating", "true_rating")
                               if rating != true}
    return found


@dataclass(frozen=True)
class _Counters:
    """Counter columns of a table and the rows they count."""

    table: str
    source: str  # the counted rows
    key: str  # the source's column naming the row that holds the counters
    # counter -> (aggregate over its source rows, value when there are none, how to add {new} rows' count)
    columns: dict[str, tuple[str, str, str]]
    counted: str = "1 = 1"  # which source rows count (answers: those a moderator has not hidden)


_SUM = ("SUM(value)", "0", "rating + {new}")
_COUNTERS = {
    "answers": _Counters("ask_question", "ask_answer", "question_id", {
        "answer_count": ("COUNT(*)", "0", "answer_count + {new}"),
        "has_accepted": ("MAX(CASE WHEN is_accepted THEN 1 ELSE 0 END) = 1", "1 = 0", "has_accepted OR {new} > 0")},
        "hidden_at IS NULL"),
    "question votes": _Counters("ask_question", "ask_questionvote", "question_id", {"rating": _SUM}),
    "answer votes": _Counters("ask_answer", "ask_answervote", "answer_id", {"rating": _SUM}),
}


def counters_recount(touched: dict[str, Iterable[int]], *, batch_size: int = RECALC_BATCH_SIZE) -> int:
    """Rebuild just the counters written rows can have changed, set-based: what an import runs,
    instead of visiting every question as counters_recalculate does.

    touched: {"answers": question ids, "question votes": question ids, "answer votes": answer ids}.
    Returns how many rows had a wrong counter.
    """
    fixed = 0
    for kind, ids in touched.items():
        counters, ids = _COUNTERS[kind], sorted(ids)
        for start in range(0, len(ids), batch_size):
            chunk = ids[start:start + batch_size]
            test, params = among(chunk)
            with transaction.atomic(), connection.cursor() as cursor:
                # Lock first, count after: a vote committed meanwhile is counted, none is lost.
                cursor.execute(f"SELECT id FROM {counters.table} WHERE id {test} ORDER BY id"
                               + (" FOR UPDATE" if connection.features.has_select_for_update else ""), params)
                cursor.execute(_recount_sql(counters, test), params)
                fixed += cursor.rowcount
                cursor.execute(_empty_sql(counters, test), params)
                fixed += cursor.rowcount
    return fixed


def _recount_sql(counters: _Counters, test: str) -> str:
    """UPDATE the counters of the rows `id {test}` that have source rows to what those rows count."""
    table, source, key, columns = counters.table, counters.source, counters.key, counters.columns
    assign = ", ".join(f"{column} = c.{column}" for column in columns)
    aggregates = ", ".join(f"{agg} AS {column}" for column, (agg, _, _) in columns.items())
    differs = " OR ".join(f"{table}.{column} <> c.{column}" for column in columns)
    return (f"UPDATE {table} SET {assign} FROM (SELECT {key} AS id, {aggregates} FROM {source} "
            f"WHERE {key} {test} AND {counters.counted} GROUP BY {key}) AS c WHERE {table}.id = c.id AND ({differs})")


def _empty_sql(counters: _Counters, test: str) -> str:
    """UPDATE the counters of the rows `id {test}` that have no source rows to their empty values."""
    table, source, key, columns = counters.table, counters.source, counters.key, counters.columns
    assign = ", ".join(f"{column} = ({empty})" for column, (_, empty, _) in columns.items())
    differs = " OR ".join(f"{column} <> ({empty})" for column, (_, empty, _) in columns.items())
    return (f"UPDATE {table} SET {assign} WHERE id {test} AND ({differs}) "
            f"AND NOT EXISTS (SELECT 1 FROM {source} WHERE {source}.{key} = {table}.id AND {counters.counted})")


def counters_add(added: dict[str, dict[int, list]], *, batch_size: int = RECALC_BATCH_SIZE) -> None:
    """Add to the counters what inserted rows count, in place: an import's new answers and votes
    raise their questions' and answers' counters by exactly this much, with no table to re-read.

    added: {"answers": {question id: [answers, accepted answers]}, "question votes": {question id: [sum]},
    "answer votes": {answer id: [sum]}}.
    """
    for kind, deltas in added.items():
        counters = _COUNTERS[kind]
        assign = ", ".join(f"{column} = ({add.format(new=f'd.column{n}')})"
                           for n, (column, (_, _, add)) in enumerate(counters.columns.items(), start=2))
        items = sorted(deltas.items())
        for start in range(0, len(items), batch_size):
            with transaction.atomic(), connection.cursor() as cursor:
                update_from_values(cursor, counters.table, assign,
                                   [(pk, *values) for pk, values in items[start:start + batch_size]])
