"""export_data: rows of one model, streamed in primary-key order a chunk at a time (memory stays
flat however large the table), written as CSV or JSON Lines to a file (complete or not at all) or
to stdout. What the rows are is each spec's own (ask.dataio.specs); the helpers here serve them."""
import csv
import gzip
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, TextIO

from django.db import connection
from django.db.models import QuerySet

from ask.core.bulk import as_text
from ask.core.private_files import UnsafePath, private_open
from ask.dataio.specs import SPECS, Spec, format_of
from ask.jobs.runner import OutputClosed


class ExportError(Exception):
    """The output cannot be written (a missing folder, a full disk): the operator's to fix; says
    what and where, and that nothing was left under the file's name."""


CHUNK = 2000  # rows per query: ≈ 1–2 MB of text for questions, one index range scan each
# CSV formula injection: a spreadsheet runs a cell that starts with one of these (=HYPERLINK(...),
# +cmd|...). Such a text cell is written with a leading apostrophe unless export_data --raw; plain
# numbers ("-3", "+1.5") stay as they are, since a spreadsheet reads them as numbers and runs nothing.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def formula_neutralised(value: str) -> str:
    if value and value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _sql_neutralised(column: str) -> str:
    """formula_neutralised() in SQL, for the COPY path; the regular expression runs only on the few
    cells that start with a trigger character."""
    cell = f"q.{connection.ops.quote_name(column)}::text"
    return (f"CASE WHEN left({cell}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
            f"AND {cell} !~ '^[+-]?[0-9]+(\\.[0-9]+)?$' THEN '''' || {cell} ELSE {cell} END")


def chunks(queryset: QuerySet, fields: list[str]) -> Iterator[list[dict]]:
    """The queryset's rows as dicts, by primary key ranges (keyset pagination, no OFFSET)."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values(*dict.fromkeys(["pk", *fields]))[:CHUNK])
        if not rows:
            return
        last = rows[-1]["pk"]
        yield rows


def created_since(queryset: QuerySet, field: str | None, since: datetime | None) -> QuerySet:
    return queryset.filter(**{f"{field}__gte": since}) if since and field else queryset


def field_rows(queryset: QuerySet, fields: list[str], since_field: str | None = None,
               since: datetime | None = None) -> Iterator[list[str]]:
    """Rows of the queryset's fields (lookups like "author__email" too) as text, in that order."""
    for chunk in chunks(created_since(queryset, since_field, since), fields):
        yield from ([as_text(row[f]) for f in fields] for row in chunk)


def copy_timestamp(column: str) -> str:
    """SQL writing a timestamp as export_data's text does (ISO 8601, UTC offset), for copy_select."""
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"


def _copy_csv(spec: Spec, out: TextIO, since: datetime | None, raw: bool) -> int:
    where, params = ("", [])
    if since and spec.copy_since:
        where, params = f"WHERE {spec.copy_since} >= %s", [since]
    with connection.cursor() as cursor:
        query = cursor.mogrify(spec.copy_select.format(where=where), params).decode()
        if not raw:
            names = ", ".join(connection.ops.quote_name(c) for c in spec.columns)
            query = f"SELECT {', '.join(_sql_neutralised(c) for c in spec.columns)} FROM ({query}) AS q({names})"
        out.write(",".join(spec.columns) + "\n")
        out.flush()
        # Bytes straight through to the file (or gzip): no decoding and encoding again on the way.
        target = getattr(out, "buffer", out)
        with cursor.db.wrap_database_errors:  # the driver's own method: its errors as Django's (ask.core.bulk)
            cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')", target)
        return cursor.rowcount


def export_rows(name: str, out: TextIO, fmt: str, since: datetime | None = None,
                on_rows: Callable[[int], None] | None = None, raw: bool = False) -> int:
    """Write every row of the spec `name` to out; returns how many. on_rows(n) reports progress.
    CSV cells that a spreadsheet would run as formulas are neutralised unless raw."""
    spec = SPECS[name]
    columns = list(spec.columns)
    if fmt == "csv" and spec.copy_select and connection.vendor == "postgresql":
        return _copy_csv(spec, out, since, raw)
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        write = writer.writerow if raw else (lambda row: writer.writerow([formula_neutralised(v) for v in row]))
    else:
        def write(row: list[str]) -> None:
            out.write(json.dumps(dict(zip(columns, row)), ensure_ascii=False) + "\n")
    count = 0
    for row in spec.rows(since):
        write(row)
        count += 1
        if on_rows and count % CHUNK == 0:
            on_rows(CHUNK)
    return count


@dataclass
class ExportResult:
    rows: int
    target: str  # the file written, or "stdout"


def data_export(*, name: str, output: str, fmt: str | None, compress: bool, since: datetime | None,
                on_rows: Callable[[int], None] | None = None, raw: bool = False) -> ExportResult:
    """Export to output ("-": stdout). A file is written under FILE.partial and renamed when
    complete, so a reader never finds half an export under the real name; the partial file is made
    0600 with O_EXCL|O_NOFOLLOW, so a link planted under that name (a shared folder) is refused, never
    written through."""
    fmt = fmt or (format_of(Path(output)) if output != "-" else "csv")
    compress = compress or output.endswith(".gz")
    if output == "-":
        try:
            count = _export_to(sys.stdout.buffer, name, fmt, compress, since, on_rows, raw)
        except BrokenPipeError:
            _quiet_stdout()
            raise OutputClosed("stdout was closed by its reader (`| head`?); the export stopped") from None
        except OSError as error:
            _quiet_stdout()
            raise ExportError(f"stdout: cannot write: {error.strerror or error}") from None
        return ExportResult(count, "stdout")
    target = Path(output)
    if not target.parent.is_dir():
        raise ExportError(f"{output}: the folder {target.parent} does not exist; nothing written")
    partial = target.with_name(target.name + ".partial")
    try:
        binary = private_open(partial, "wb", replace=True)
        try:
            with binary:
                count = _export_to(binary, name, fmt, compress, since, on_rows, raw)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    except UnsafePath:
        raise
    except OSError as error:  # ENOSPC, EACCES, EDQUOT...: one line, and no half file left behind
        raise ExportError(f"{output}: cannot write: {error.strerror or error}; nothing written "
                          f"({partial.name} removed)") from None
    return ExportResult(count, str(target))


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is buffered for the closed
    pipe (or full disk) does not print a second error on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _export_to(binary, name: str, fmt: str, compress: bool, since, on_rows, raw_values: bool) -> int:
    raw = gzip.GzipFile(fileobj=binary, mode="wb", mtime=0) if compress else binary
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    count = export_rows(name, text, fmt, since, on_rows, raw=raw_values)
    text.detach()  # flushes; the caller's binary stream stays open (stdout) or is closed by the caller
    if compress:
        raw.close()  # writes gzip's trailer (the binary stream under it stays open)
    return count

