"""Bulk writes: rows by COPY on PostgreSQL (executemany elsewhere, same rows either way), and the
one text encoding of values (exports and COPY)."""
import io
import json
from datetime import datetime, time
from typing import Callable, Sequence

from django.db import connection

# Rows per COPY: 20,000 rows of a few hundred bytes ≈ 5 MB of buffer, ≈ 0.3 s per round trip.
CHUNK_ROWS = 20_000


def as_text(value, *, null: str = "", true: str = "true", false: str = "false") -> str:
    """A value as text: the one encoding of exports (CSV, JSON Lines) and, with COPY's null and
    booleans, of COPY's text format (copy_value). Dates in ISO 8601 with their offset."""
    if value is None:
        return null
    if isinstance(value, bool):
        return true if value else false
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def escape(text: str) -> str:
    """A text value as COPY's text format needs it (four str.replace calls beat any per-character loop)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_value(value) -> str:
    """A value in COPY's text format. Whole numbers and texts first: most of a bulk load's values."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return escape(value)
    return "\\N" if value is None else escape(as_text(value, true="t", false="f"))


# Fields whose values str() writes as PostgreSQL reads them, with nothing to escape.
_PLAIN = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
          "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "ForeignKey",
          "DecimalField", "DateTimeField", "DateField", "TimeField"}


def copy_writers(fields) -> list[Callable[[object], str]]:
    """For each model field, how its values are written in COPY's text format, chosen once: plain
    str() where it needs nothing else (the bulk of a big import's values), copy_value otherwise."""
    return [str if field.get_internal_type() in _PLAIN and not field.null else copy_value for field in fields]


def copy_text(rows, writers: list[Callable[[object], str]]) -> str:
    """Rows as COPY's text format, each value written by its column's writer (see copy_writers)."""
    return "".join(["\t".join([write(value) for write, value in zip(writers, row)]) + "\n" for row in rows])


def copy_in(cursor, table: str, columns: list[str], text: str) -> None:
    """COPY copy_text(...) into a table in one round trip. copy_expert is the driver's own, past
    Django's error wrapping: its errors are wrapped here, so a lost connection reads as Django's
    OperationalError ("database connection lost") like any other query's."""
    with cursor.db.wrap_database_errors:
        copy_bytes(cursor, table, columns, text.encode())


def copy_bytes(cursor, table: str, columns: list[str], data: bytes) -> None:
    """COPY data (copy_text's format, encoded) into a table, read in one go. Bytes, the connection's
    UTF8: psycopg2's own decoding of a text file raised a SystemError beside the real error when the
    connection died mid-COPY. One read: psycopg2 takes the GIL back for every read, and in its 8 KB
    reads a thread making rows meanwhile (ask.core.copy_pipe) starved the load to a few MB/s."""
    cursor.copy_expert(f'COPY {table} ({", ".join(columns)}) FROM STDIN', io.BytesIO(data), size=len(data) + 1)


def among(values) -> tuple[str, list]:
    """SQL testing a column against many values, with its parameters: one array on PostgreSQL (10,000
    ids as an IN list of 10,000 parameters cost more than the query itself), an IN list elsewhere."""
    values = list(values)
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [values]
    return f"IN ({', '.join(['%s'] * len(values))})", values


def update_from_values(cursor, table: str, assign: str, rows: list[tuple], where: str = "") -> None:
    """UPDATE table SET assign FROM (VALUES rows) AS d WHERE table.id = d.column1 [AND (where)]: many
    rows' own values in one statement. rows: (id, *values) as the database takes them; assign and
    where name the values d.column2, d.column3, … (VALUES names its columns so on PostgreSQL and
    SQLite alike)."""
    marks = ", ".join(["(" + ", ".join(["%s"] * len(rows[0])) + ")"] * len(rows))
    cursor.execute(f"UPDATE {table} SET {assign} FROM (VALUES {marks}) AS d "  # noqa: S608 - own names
                   f"WHERE {table}.id = d.column1" + (f" AND ({where})" if where else ""),
                   [value for row in rows for value in row])


def update_changed(model, fields: list[str], rows: list[tuple], chunk: int = 1000) -> None:
    """Set fields (attnames) of existing rows, given as (id, *values), in one UPDATE … FROM (VALUES …)
    per chunk, writing only rows where a value differs: Django's bulk_update builds a CASE per field
    and row (60 s of Python for 80,000 posts) and writes every row, changed or not. A column whose
    values are all None in a chunk is typed text by PostgreSQL and fails: not for nullable columns."""
    table, quote = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    assign = ", ".join(f"{quote(f.column)} = d.column{n}" for n, f in enumerate(columns, start=2))
    changed = " OR ".join(f"{table}.{quote(f.column)} {differs} d.column{n}" for n, f in enumerate(columns, start=2))
    for start in range(0, len(rows), chunk):
        prepared = [(pk, *(f.get_db_prep_save(value, connection) for f, value in zip(columns, row)))
                    for pk, *row in rows[start:start + chunk]]
        with connection.cursor() as cursor:
            update_from_values(cursor, table, assign, prepared, where=changed)


class RowWriter:
    """Buffer rows for one table and flush them in chunks; call close() to flush the rest.
    writers: how each column's values are written (copy_writers; copy_value for all by default).
    pipe: a CopyPipe that loads the chunks while the caller makes the next (PostgreSQL)."""

    def __init__(self, table: str, columns: list[str], on_flush=None, *, writers=None, pipe=None) -> None:
        self.table, self.columns, self.on_flush, self.pipe = table, columns, on_flush, pipe
        self.writers = writers or [copy_value] * len(columns)
        self.rows: list[tuple] = []
        self.written = 0

    @classmethod
    def of(cls, model, columns: list[str], on_flush=None, *, pipe=None) -> "RowWriter":
        """A writer for a model's table, each column written as its field needs (copy_writers)."""
        return cls(model._meta.db_table, columns, on_flush, pipe=pipe,
                   writers=copy_writers([model._meta.get_field(column) for column in columns]))

    def write(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            text = copy_text(self.rows, self.writers)
            if self.pipe is not None:
                self.pipe.send(self.table, self.columns, text)
            else:
                with connection.cursor() as cursor:
                    copy_in(cursor, self.table, self.columns, text)
        else:
            marks = ", ".join(["%s"] * len(self.columns))
            with connection.cursor() as cursor:
                cursor.executemany(f'INSERT INTO {self.table} ({", ".join(self.columns)}) VALUES ({marks})', self.rows)
        self.written += len(self.rows)
        if self.on_flush:
            self.on_flush(len(self.rows))
        self.rows = []

    def close(self) -> int:
        self.flush()
        return self.written


def reserve_ids(table: str, count: int) -> Sequence[int]:
    """Ids for rows about to be written with explicit ids, safe against concurrent inserts. Taken in
    one statement they are nearly always one run (a range: 10M ids as a list took 1 GB and 20 s to
    fetch); a run broken by another writer's inserts comes back as the list of them."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT min(id), max(id) FROM (SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                           f"AS id FROM generate_series(1, %s)) taken", [count])
            first, last = cursor.fetchone()
            if last - first + 1 == count:
                return range(first, last + 1)
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
                           [count])  # another writer took some meanwhile: a new set, as a list
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # SQLite: one writer at a time
        start = cursor.fetchone()[0] + 1
        return range(start, start + count)


def analyze(tables: list[str]) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL): autovacuum gets to them only later,
    and meanwhile a search on a freshly filled site took 95 ms instead of 4 (no word statistics)."""
    if connection.vendor == "postgresql" and tables:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")
