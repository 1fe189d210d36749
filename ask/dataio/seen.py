"""The natural keys an import has read so far, kept in a temporary table rather than in memory, so
finding a key the file repeats costs the same for the millionth row as for the first."""
from django.db import connection

from ask.core.bulk import copy_in, copy_text, escape

SEEN, BATCH = "import_seen_keys", "import_batch_keys"


class SeenKeys:
    def __init__(self) -> None:
        with connection.cursor() as cursor:
            for table in (SEEN, BATCH):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TEMP TABLE {table} (key TEXT PRIMARY KEY, line INTEGER NOT NULL)")

    def repeated(self, keys: list[tuple[str, int]]) -> dict[int, int]:
        """keys: (key, line) of one batch's rows, in file order. Returns {index: line} for the rows whose
        key came earlier in the file, with the line it first came on; remembers the others."""
        first: dict[str, int] = {}
        for key, line in keys:
            first.setdefault(key, line)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {BATCH}")
            if connection.vendor == "postgresql":
                copy_in(cursor, BATCH, ["key", "line"], copy_text(first.items(), [escape, str]))
            else:
                cursor.executemany(f"INSERT INTO {BATCH} (key, line) VALUES (%s, %s)", list(first.items()))
            cursor.execute(f"SELECT b.key, s.line FROM {BATCH} b JOIN {SEEN} s ON s.key = b.key")
            earlier = dict(cursor.fetchall())
            cursor.execute(f"INSERT INTO {SEEN} (key, line) SELECT key, line FROM {BATCH} WHERE 1 = 1 "
                           "ON CONFLICT (key) DO NOTHING")
        found = {}
        for index, (key, line) in enumerate(keys):
            if key in earlier:
                found[index] = earlier[key]
            elif first[key] != line:
                found[index] = first[key]
        return found

    def close(self) -> None:
        with connection.cursor() as cursor:
            for table in (SEEN, BATCH):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
