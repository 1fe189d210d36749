"""scripts/bench search: search's time over many words, common and rare, at the bench's data and with
ten times the questions (issue: performance)."""
import random
import statistics
import time

TIMES = 3  # each word searched this often; the median counts
MULTIPLY = 10


def _words() -> list[str]:
    """Single words and pairs of the fill's own vocabulary (from a word in most questions to one in
    few), and words no question has."""
    from ask.qa.filling import NOUNS, TECH, VERBS

    rng = random.Random(3)
    pairs = [f"{rng.choice(TECH)} {rng.choice(TECH)}" for _ in range(30)]
    nouns = [f"{noun.strip().split()[-1]} {rng.choice(TECH)}" for noun in NOUNS[:20]]
    return [*TECH, *VERBS, *pairs, *nouns, "memory leak race condition", "zebra", "deadl"]


def _timed(words: list[str]) -> list[tuple[float, str]]:
    """Milliseconds for each word: the search and the first page of its list, as the page reads them."""
    from ask.qa.selectors import search_questions

    timed = []
    for word in words:
        runs = []
        for _ in range(TIMES):
            started = time.perf_counter()
            list(search_questions(word).questions[:20])
            runs.append((time.perf_counter() - started) * 1000)
        timed.append((statistics.median(runs), word))
    return sorted(timed)


def _report(label: str) -> None:
    from bench import figure

    timed = _timed(_words())
    worst = timed[-1]
    figure(f"search, {label}: median / p90 of {len(timed)} words", f"{timed[len(timed) // 2][0]:.1f} / "
           f"{timed[int(len(timed) * 0.9)][0]:.1f} ms")
    figure(f"search, {label}: the slowest word", f"{worst[0]:.1f} ms",
           f"goal < 50 ms ({worst[0] / 50:.2f}x of it): {worst[1]!r}")


def _analyze() -> None:
    """Statistics for the planner, and the deleted copies' index entries gone (each would be a heap
    visit for nothing), as autovacuum leaves them a while after a bulk change."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ask_question")


def bench_search() -> None:
    """Search's time (the search and its first page, uncached) over ~130 words, common and rare, at
    fill_db BENCH_RATIO and with ten times the questions (issue: performance)."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from ask.qa.models import Question

    from bench import RATIO

    if not Question.objects.exists():
        call_command("fill_db", str(RATIO), "--seed", "1", "--no-stats", stdout=StringIO())
    _analyze()
    count = Question.objects.count()
    _report(f"{count:,} questions")
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM ask_question")
        last = cursor.fetchone()[0]
        # Copies of every question, older by whole days, search vectors and all (triggers off: the
        # vector is the original's): the same words in ten times the rows.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("INSERT INTO ask_question (title, text, text_html, created_at, rating, answer_count, "
                       "has_accepted, search_vector, author_id, hidden_reason) SELECT title, text, text_html, "
                       "created_at - make_interval(days => copy), rating, answer_count, has_accepted, search_vector, "
                       "author_id, '' FROM ask_question, generate_series(1, %s) copy ORDER BY copy DESC, id",
                       [MULTIPLY - 1])
        cursor.execute("SET session_replication_role = DEFAULT")
    _analyze()
    try:
        _report(f"{count * MULTIPLY:,} questions")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ask_question WHERE id > %s", [last])
        _analyze()
