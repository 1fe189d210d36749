"""export_data: rows of one model, streamed in primary-key order a chunk at a time (memory stays
flat however large the table), written as CSV or JSON Lines to a file (complete or not at all) or
to stdout. What the rows are is each spec's own (ask.dataio.specs); the helpers here serve them."""
import csv
import gzip
import io
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, TextIO

from django.db import connection
from django.db.models import QuerySet

from ask.core.bulk import as_text
from ask.dataio.specs import SPECS, Spec, format_of

CHUNK = 2000  # rows per query: ≈ 1–2 MB of text for questions, one index range scan each


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


def _copy_csv(spec: Spec, out: TextIO, since: datetime | None) -> int:
    where, params = ("", [])
    if since and spec.copy_since:
        where, params = f"WHERE {spec.copy_since} >= %s", [since]
    with connection.cursor() as cursor:
        query = cursor.mogrify(spec.copy_select.format(where=where), params).decode()
        out.write(",".join(spec.columns) + "\n")
        out.flush()
        # Bytes straight through to the file (or gzip): no decoding and encoding again on the way.
        target = getattr(out, "buffer", out)
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')", target)
        return cursor.rowcount


def export_rows(name: str, out: TextIO, fmt: str, since: datetime | None = None,
                on_rows: Callable[[int], None] | None = None) -> int:
    """Write every row of the spec `name` to out; returns how many. on_rows(n) reports progress."""
    spec = SPECS[name]
    columns = list(spec.columns)
    if fmt == "csv" and spec.copy_select and connection.vendor == "postgresql":
        return _copy_csv(spec, out, since)
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        write = writer.writerow
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
                on_rows: Callable[[int], None] | None = None) -> ExportResult:
    """Export to output ("-": stdout). A file is written under FILE.partial and renamed when
    complete, so a reader never finds half an export under the real name."""
    fmt = fmt or (format_of(Path(output)) if output != "-" else "csv")
    compress = compress or output.endswith(".gz")
    if output == "-":
        count = _export_to(sys.stdout.buffer, name, fmt, compress, since, on_rows)
        return ExportResult(count, "stdout")
    target = Path(output)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("wb") as binary:
            count = _export_to(binary, name, fmt, compress, since, on_rows)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(count, str(target))


def _export_to(binary, name: str, fmt: str, compress: bool, since, on_rows) -> int:
    raw = gzip.GzipFile(fileobj=binary, mode="wb", mtime=0) if compress else binary
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    count = export_rows(name, text, fmt, since, on_rows)
    text.detach()  # flushes; the caller's binary stream stays open (stdout) or is closed by the caller
    if compress:
        raw.close()  # writes gzip's trailer (the binary stream under it stays open)
    return count

