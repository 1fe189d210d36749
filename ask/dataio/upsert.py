"""Many rows written by their natural key at once, skipping rows that would not change, so importing
the same file again writes nothing at all.

The rows go into a temporary table first (COPY on PostgreSQL, executemany on SQLite). When none of
their keys exist yet, PostgreSQL takes them by a second COPY straight into the table: COPY writes
rows in bulk, which INSERT … SELECT cannot, and a fresh import is nearly all such batches. Otherwise,
and as the fallback should another writer insert one of the keys meanwhile, one
INSERT … SELECT … ON CONFLICT (key) DO UPDATE moves them. RETURNING names the rows really inserted
or changed, so the caller rebuilds counters for those only."""
from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from ask.core.bulk import among, copy_in, copy_text, copy_writers


def copy_text_of(model: type[Model], columns: list[str], rows: list[tuple]) -> str | None:
    """The rows as upsert() sends them to PostgreSQL: made in advance, they need no transaction."""
    if connection.vendor != "postgresql":
        return None
    return copy_text(rows, copy_writers([model._meta.get_field(c) for c in columns]))


def upsert(model: type[Model], columns: list[str], rows: list[tuple], *, key: list[str], update: list[str] = (),
           returning: list[str] = (), fresh: bool = False, text: str | None = None) -> list[tuple]:
    """Insert rows (values in the order of columns, by attname) or update the row with the same key.

    update: the columns a conflicting row takes from the new one (none: keep the existing row).
    returning: columns to return for every row inserted or changed, plus whether it was inserted (they
    must include the key's columns: SQLite tells an inserted row by its key).
    fresh: the caller has just found none of the keys in the table (saves the temporary table).
    text: copy_text_of(model, columns, rows), if the caller made it already.
    """
    if not rows:
        return []
    table, name = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name
    names = ", ".join(map(name, columns))
    postgres = connection.vendor == "postgresql"
    if postgres and text is None:
        text = copy_text_of(model, columns, rows)
    with connection.cursor() as cursor:
        if postgres and fresh and _copy_new(cursor, table, columns, text):
            return _inserted(rows, columns, returning)
        stage = name(f"import_stage_{model._meta.db_table}")
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        cursor.execute(f"CREATE TEMP TABLE {stage} AS SELECT {names} FROM {table} WHERE 1 = 0")
        if postgres:
            copy_in(cursor, stage, [name(c) for c in columns], text)
            cursor.execute(f"SELECT 1 FROM {stage} s JOIN {table} t ON "
                           + " AND ".join(f"t.{name(c)} = s.{name(c)}" for c in key) + " LIMIT 1")
            if cursor.fetchone() is None and _copy_new(cursor, table, columns, text):
                cursor.execute(f"DROP TABLE {stage}")
                return _inserted(rows, columns, returning)
        else:
            fields = [model._meta.get_field(column) for column in columns]
            cursor.executemany(f"INSERT INTO {stage} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",
                               [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row)] for row in rows])
        if update:
            distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
            changed = " OR ".join(f"{table}.{name(c)} {distinct} EXCLUDED.{name(c)}" for c in update)
            action = f"DO UPDATE SET {', '.join(f'{name(c)} = EXCLUDED.{name(c)}' for c in update)} WHERE {changed}"
        else:
            action = "DO NOTHING"
        existing = None if postgres or not returning else _existing_keys(cursor, stage, table, key)
        # xmax = 0: the row version was inserted, not updated (PostgreSQL; SQLite is told by its key).
        inserted = "xmax = 0" if postgres else "0"
        # "WHERE 1 = 1" tells SQLite's parser that ON CONFLICT belongs to the INSERT, not to a join.
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} WHERE 1 = 1 "
                       f"ON CONFLICT ({', '.join(map(name, key))}) {action}"
                       + (f" RETURNING {', '.join(map(name, returning))}, {inserted}" if returning else ""))
        found = cursor.fetchall() if returning else []
        cursor.execute(f"DROP TABLE {stage}")
    if existing is not None:
        picks = [returning.index(c) for c in key]
        found = [(*row[:-1], tuple(row[i] for i in picks) not in existing) for row in found]
    return found


def _existing_keys(cursor, stage: str, table: str, key: list[str]) -> set[tuple]:
    """The keys of the staged rows that the table has already (SQLite, before the upsert)."""
    name = connection.ops.quote_name
    cursor.execute(f"SELECT {', '.join(f's.{name(c)}' for c in key)} FROM {stage} s JOIN {table} t ON "
                   + " AND ".join(f"t.{name(c)} = s.{name(c)}" for c in key))
    return set(cursor.fetchall())


def _copy_new(cursor, table: str, columns: list[str], text: str) -> bool:
    """COPY rows whose keys are not in the table straight into it; False if one is there after all
    (another writer inserted it meanwhile), with nothing written."""
    try:
        with transaction.atomic():
            copy_in(cursor, table, [connection.ops.quote_name(c) for c in columns], text)
        return True
    except IntegrityError:
        return False


def _inserted(rows: list[tuple], columns: list[str], returning: list[str]) -> list[tuple]:
    """What RETURNING would give for rows that were all inserted."""
    picks = [columns.index(c) if c in columns else None for c in returning]
    return [(*(None if i is None else row[i] for i in picks), True) for row in rows] if returning else []


def select_in(model: type[Model], column: str, values, columns: list[str]) -> list[tuple]:
    """The columns of the rows whose column is one of values."""
    name = connection.ops.quote_name
    test, params = among(values)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(map(name, columns))} FROM {name(model._meta.db_table)} "
                       f"WHERE {name(column)} {test}", params)
        return cursor.fetchall()
