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

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, QuerySet, Value, When

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
    """The newest SEARCH_CANDIDATES matches and their count, at a cost that does not grow with the
    number of matches (a word matching half the questions used to rank-sort all of them). What the
    newest WINDOW questions show decides the path, not the planner's estimate (a word it has no
    statistics for made it walk all 1M questions: 0.9 s):
    - they hold SEARCH_CANDIDATES matches: those are the newest; a common word;
    - they hold some: the share they show says how far back the candidates lie, and the GIN index
      is read for that stretch only (matches older than it are never visited);
    - past twice COUNT_CAP by that share in the whole table, the total is "1,000+" without a count;
      otherwise the index counts them exactly (few, so cheaply).
    """
    from django.contrib.postgres.search import SearchQuery, SearchRank

    with connection.cursor() as cursor:
        cursor.execute(_IN_WINDOW, [WINDOW, query, SEARCH_CANDIDATES])
        newest, top, questions = cursor.fetchone()
        looked_at = top - newest[-1] + 1 if len(newest) == SEARCH_CANDIDATES else min(WINDOW, top or 0)
        questions = questions if questions > 0 else top or 0  # never analyzed (-1): the highest id
        common = bool(newest) and len(newest) / max(looked_at, 1) * questions > 2 * COUNT_CAP
        if common and len(newest) < SEARCH_CANDIDATES:
            stretch = 2 * SEARCH_CANDIDATES * looked_at // len(newest)  # rows holding about twice enough
            newest = _by_index(cursor, _BY_INDEX_SINCE, [query, top - stretch, SEARCH_CANDIDATES])
        total = COUNT_CAP + 1 if common else None
        if total is None:
            found = _by_index(cursor, _BY_INDEX_COUNTED, [query, SEARCH_CANDIDATES], counted=True)
            newest, total = [pk for pk, _ in found], found[0][1] if found else 0
    terms = SearchQuery(query, config="english", search_type="websearch")
    # F(): the stored vector (with its title weight). A bare name would be SearchVector("search_vector"),
    # the column cast to text and parsed again for every row: 12 of a search's 20 ms.
    ranked = (visible.filter(pk__in=newest).annotate(rank=SearchRank(F("search_vector"), terms))
              .order_by("-rank", "-id"))
    return Found(ranked, min(total, COUNT_CAP + 1), words)


WINDOW = 20_000  # newest questions looked at before the index: about 20 ms at most
_MATCHES = "hidden_at IS NULL AND search_vector @@ websearch_to_tsquery('english', %s)"
_IN_WINDOW = ("SELECT ARRAY(SELECT id FROM (SELECT id, search_vector, hidden_at FROM ask_question ORDER BY id DESC "
              f"LIMIT %s) newest WHERE {_MATCHES} ORDER BY id DESC LIMIT %s), (SELECT max(id) FROM ask_question), "
              "(SELECT reltuples FROM pg_class WHERE oid = 'ask_question'::regclass)")
_BY_INDEX_SINCE = f"SELECT id FROM ask_question WHERE {_MATCHES} AND id > %s ORDER BY id DESC LIMIT %s"
_BY_INDEX_COUNTED = f"SELECT id, count(*) OVER () FROM ask_question WHERE {_MATCHES} ORDER BY id DESC LIMIT %s"


def _by_index(cursor, sql: str, params: list, counted: bool = False) -> list:
    """Through the GIN index only: never a sequential or primary-key walk (a GIN index is read by
    bitmap scans alone, so turning the other two off leaves it)."""
    with transaction.atomic():  # SET LOCAL: gone with the transaction, also through a transaction pooler
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; " + sql, params)
        rows = cursor.fetchall()  # the last statement's
    return rows if counted else [row[0] for row in rows]


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
