"""The denormalised counters of the Q&A tables (ratings, answer counts, accepted flags): rebuilt
from the votes and answers (recalc_ratings), recounted for the rows an import touched, or added to in
place for the rows it inserted."""
from dataclasses import dataclass
from typing import Iterable

from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ask.core.bulk import among
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote

# Questions per batch when rebuilding counters: 5,000 questions with their answers ≈ 1 s.
RECALC_BATCH_SIZE = 5000


def _vote_sum(model, field: str):
    return Coalesce(Subquery(model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
                             .annotate(s=Sum("value")).values("s")), Value(0), output_field=IntegerField())


def _answer_count():
    return Coalesce(Subquery(Answer.objects.filter(question=OuterRef("pk")).order_by().values("question")
                             .annotate(c=Count("pk")).values("c")), Value(0), output_field=IntegerField())


def counters_recalculate(*, batch_size: int, dry_run: bool, on_batch=None) -> dict:
    """Rebuild every question's rating and answer count and every answer's rating from the rows.

    Works by primary-key ranges so memory stays flat; returns how many counters were wrong.
    """
    wrong = {"question ratings": 0, "answer counts": 0, "answer ratings": 0, "accepted flags": 0}
    last = 0
    while True:
        ids = list(Question.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return wrong
        last = ids[-1]
        with transaction.atomic():
            if not dry_run:
                # Lock answers, then questions: the order vote_cast takes them in, so no deadlock,
                # and no vote lands between reading a true rating and writing it.
                list(Answer.objects.select_for_update().filter(question_id__in=ids).order_by("pk").values_list("pk"))
                list(Question.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
            questions = Question.objects.filter(pk__in=ids).annotate(
                true_rating=_vote_sum(QuestionVote, "question"), true_answers=_answer_count(),
            ).values_list("pk", "rating", "true_rating", "answer_count", "true_answers", "has_accepted")
            accepted = set(Answer.objects.filter(question_id__in=ids, is_accepted=True)
                           .values_list("question_id", flat=True))
            fix_questions = []
            for pk, rating, true_rating, count, true_count, has_accepted in questions:
                wrong["question ratings"] += rating != true_rating
                wrong["answer counts"] += count != true_count
                wrong["accepted flags"] += has_accepted != (pk in accepted)
                if (rating, count, has_accepted) != (true_rating, true_count, pk in accepted):
                    fix_questions.append(Question(pk=pk, rating=true_rating, answer_count=true_count,
                                                  has_accepted=pk in accepted))
            answers = Answer.objects.filter(question_id__in=ids).annotate(true_rating=_vote_sum(AnswerVote, "answer"))
            fix_answers = [Answer(pk=pk, rating=true) for pk, rating, true
                           in answers.values_list("pk", "rating", "true_rating") if rating != true]
            wrong["answer ratings"] += len(fix_answers)
            if not dry_run:
                Question.objects.bulk_update(fix_questions, ["rating", "answer_count", "has_accepted"], batch_size=1000)
                Answer.objects.bulk_update(fix_answers, ["rating"], batch_size=1000)
        if on_batch:
            on_batch(len(ids))


@dataclass(frozen=True)
class _Counters:
    """Counter columns of a table and the rows they count."""

    table: str
    source: str  # the counted rows
    key: str  # the source's column naming the row that holds the counters
    # counter -> (aggregate over its source rows, value when there are none, how to add {new} rows' count)
    columns: dict[str, tuple[str, str, str]]


_SUM = ("SUM(value)", "0", "rating + {new}")
_COUNTERS = {
    "answers": _Counters("ask_question", "ask_answer", "question_id", {
        "answer_count": ("COUNT(*)", "0", "answer_count + {new}"),
        "has_accepted": ("MAX(CASE WHEN is_accepted THEN 1 ELSE 0 END) = 1", "1 = 0", "has_accepted OR {new} > 0")}),
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
            f"WHERE {key} {test} GROUP BY {key}) AS c WHERE {table}.id = c.id AND ({differs})")


def _empty_sql(counters: _Counters, test: str) -> str:
    """UPDATE the counters of the rows `id {test}` that have no source rows to their empty values."""
    table, source, key, columns = counters.table, counters.source, counters.key, counters.columns
    assign = ", ".join(f"{column} = ({empty})" for column, (_, empty, _) in columns.items())
    differs = " OR ".join(f"{column} <> ({empty})" for column, (_, empty, _) in columns.items())
    return (f"UPDATE {table} SET {assign} WHERE id {test} AND ({differs}) "
            f"AND NOT EXISTS (SELECT 1 FROM {source} WHERE {source}.{key} = {table}.id)")


def counters_add(added: dict[str, dict[int, list]], *, batch_size: int = RECALC_BATCH_SIZE) -> None:
    """Add to the counters what inserted rows count, in place: an import's new answers and votes
    raise their questions' and answers' counters by exactly this much, with no table to re-read.

    added: {"answers": {question id: [answers, accepted answers]}, "question votes": {question id: [sum]},
    "answer votes": {answer id: [sum]}}.
    """
    for kind, deltas in added.items():
        counters = _COUNTERS[kind]
        names = list(counters.columns)
        # VALUES columns are named column1, column2, … on PostgreSQL and SQLite alike; column1 is the id.
        assign = ", ".join(f"{column} = ({add.format(new=f'd.column{n}')})"
                           for n, (column, (_, _, add)) in enumerate(counters.columns.items(), start=2))
        items = sorted(deltas.items())
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            rows = ", ".join(["(" + ", ".join(["%s"] * (1 + len(names))) + ")"] * len(chunk))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"UPDATE {counters.table} SET {assign} FROM (VALUES {rows}) AS d "
                               f"WHERE {counters.table}.id = d.column1",
                               [v for pk, values in chunk for v in (pk, *values)])
