"""Word-based, ranked search of questions on both databases, with a result count and excerpts.

PostgreSQL: the search_vector column (kept by a trigger, migration 0002), websearch syntax, ts_rank.
SQLite (the embedded default): an FTS5 index (ask_question_fts, Porter-stemmed words, the title
weighing ten times the text) kept by triggers. SQLite drops a table's triggers whenever a migration
rebuilds the table, so they are made again after every migrate (ensure_sqlite_index, connected to
post_migrate), and the index rebuilt when they had gone missing.

On both, the newest SEARCH_CANDIDATES matches are ranked (ranking every match of a common word
costs a read of each), and the count stops at COUNT_CAP ("1,000+").
"""
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, Value, When

from ask.qa.models import Question

SEARCH_CANDIDATES = 200
COUNT_CAP = 1000
MAX_WORDS = 8
FTS = "ask_question_fts"

_SQLITE_INDEX = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(title, text, content='ask_question', "
    "content_rowid='id', tokenize='porter unicode61', prefix='2 3')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_insert AFTER INSERT ON ask_question BEGIN "
    f"INSERT INTO {FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_delete AFTER DELETE ON ask_question BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_update AFTER UPDATE OF title, text ON ask_question BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    f"INSERT INTO {FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
]


def ensure_sqlite_index(using: str = "default", **kwargs) -> bool:
    """Make the FTS5 index and its triggers where missing; rebuild the index when a trigger was
    missing (rows written meanwhile are not in it). True when it had to. A no-op on PostgreSQL."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return False
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ask_question'")
        if not cursor.fetchone()[0]:
            return False  # before the app's first migration
        cursor.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '{FTS}_%'")
        complete = cursor.fetchone()[0] == 3
        for statement in _SQLITE_INDEX:
            cursor.execute(statement)
        if not complete:
            cursor.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
    return not complete


def words_of(query: str) -> list[str]:
    """The words a search is for: letters and digits, lower-cased, at most MAX_WORDS."""
    return re.findall(r"\w+", query.lower())[:MAX_WORDS]


@dataclass
class Found:
    questions: QuerySet[Question]  # ranked, best first
    total: int  # matches, at most COUNT_CAP + 1 (shown as "1,000+")
    words: list[str]

    @property
    def total_shown(self) -> str:
        return f"{COUNT_CAP:,}+" if self.total > COUNT_CAP else f"{self.total:,}"


def _quoted(word: str, prefix: bool = False) -> str:
    """An FTS5 string of one word (letters and digits only, so never an operator); a prefix from two
    characters on, which the index's prefix='2 3' serves without reading every term."""
    return f'"{word}"*' if prefix and len(word) >= 2 else f'"{word}"'


def _ranked(visible: QuerySet[Question], ids: list[int]) -> QuerySet[Question]:
    order = Case(*[When(pk=pk, then=Value(n)) for n, pk in enumerate(ids)], output_field=IntegerField())
    return visible.filter(pk__in=ids).order_by(order) if ids else visible.none()


def _sqlite(visible: QuerySet[Question], words: list[str]) -> Found:
    # Each word quoted (FTS5 syntax in the query is text, never an operator), the last one a prefix.
    match = " ".join(_quoted(word) for word in words[:-1]) + " " + _quoted(words[-1], prefix=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT f.rowid FROM {FTS} f JOIN ask_question q ON q.id = f.rowid "
                       f"WHERE {FTS} MATCH %s AND q.hidden_at IS NULL LIMIT %s", [match, COUNT_CAP + 1])
        total = len(cursor.fetchall())
        cursor.execute(f"SELECT rowid FROM (SELECT f.rowid, bm25({FTS}, 10.0, 1.0) AS score FROM {FTS} f "
                       f"JOIN ask_question q ON q.id = f.rowid WHERE {FTS} MATCH %s AND q.hidden_at IS NULL "
                       f"ORDER BY f.rowid DESC LIMIT %s) ORDER BY score, rowid DESC",
                       [match, SEARCH_CANDIDATES])
        ids = [row[0] for row in cursor.fetchall()]
    return Found(_ranked(visible, ids), total, words)


def _postgresql(visible: QuerySet[Question], query: str, words: list[str]) -> Found:
    from django.contrib.postgres.search import SearchQuery, SearchRank

    terms = SearchQuery(query, config="english", search_type="websearch")
    matching = Question.objects.filter(search_vector=terms, hidden_at=None)
    total = matching.order_by().values("pk")[:COUNT_CAP + 1].count()
    newest = list(matching.order_by("-id").values_list("pk", flat=True)[:SEARCH_CANDIDATES])
    ranked = (visible.filter(pk__in=newest).annotate(rank=SearchRank("search_vector", terms))
              .order_by("-rank", "-id"))
    return Found(ranked, total, words)


def sqlite_prefix_matches(words: list[str]) -> list[int]:
    """Ids of the questions whose title has every word, each as a prefix (suggestions while typing)."""
    match = " ".join(f"title : {_quoted(word, prefix=True)}" for word in words)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s ORDER BY rank LIMIT 50", [match])
        return [row[0] for row in cursor.fetchall()]


def search(visible: QuerySet[Question], query: str) -> Found:
    """The questions of `visible` (already joined and deferred as the list wants) matching `query`."""
    words = words_of(query)
    if not words:
        return Found(visible.none(), 0, [])
    if connection.vendor == "postgresql":
        return _postgresql(visible, query, words)
    return _sqlite(visible, words)
