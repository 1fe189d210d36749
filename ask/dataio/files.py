"""The import's side of a file: its rows with their line numbers and values read (or why not), and
the rejects file the bad ones go to."""
import csv
import gzip
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ask.core.private_files import private_open
from ask.dataio.specs import BadValue, Spec


class FileProblem(Exception):
    """The file as a whole cannot be read on (encoding, header, truncation); says where."""


@dataclass
class Row:
    line: int
    raw: dict  # column -> text as in the file
    values: dict = field(default_factory=dict)


def text_lines(path: Path) -> Iterator[str]:
    """The file's lines as text, decoded one by one so an encoding error names its line."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    number = 0
    try:
        with (gzip.open(path, "rb") if gzipped else path.open("rb")) as source:
            for number, line in enumerate(source, start=1):
                if (nul := line.find(b"\x00")) >= 0:
                    raise FileProblem(f"{path}: line {number}: a NUL byte at byte {nul} of the line: a binary "
                                      "file, not the CSV or JSON Lines export_data writes")
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise FileProblem(f"{path}: line {number}: not UTF-8 text ({error.reason} at byte "
                                      f"{error.start} of the line)") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise FileProblem(f"{path}: line {number + 1}: the gzip stream is damaged or cut short ({error})") from None


def read_rows(path: Path, spec: Spec, fmt: str) -> Iterator[Row]:
    columns = set(spec.columns)
    lines = text_lines(path)
    if fmt == "csv":
        reader = csv.reader(lines)  # quoted fields may span lines; line_num counts physical lines
        header = next(reader, None)
        if not header:
            raise FileProblem(f"{path}: the file is empty; expected a header line: {','.join(spec.columns)}")
        missing, extra = [c for c in spec.columns if c not in header], [c for c in header if c not in columns]
        if missing or extra:
            raise FileProblem(f"{path}: line 1: " + "; ".join(
                filter(None, [missing and f"missing columns: {', '.join(missing)}",
                              extra and f"unexpected columns: {', '.join(map(_shown, extra[:5]))}"]))
                + (f"; expected the header line {','.join(spec.columns)}" if missing else ""))
        start = reader.line_num + 1
        try:
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not cells:
                    continue
                if len(cells) != len(header):
                    reason = f"{len(cells)} fields, the header has {len(header)}"
                    yield Row(line, {"_line": ",".join(cells)}, {"_error": ("", reason)})
                    continue
                yield Row(line, dict(zip(header, cells)))
        except csv.Error as error:
            raise FileProblem(f"{path}: line {reader.line_num}: not valid CSV ({error})") from None
        return
    seen_any = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        seen_any = True
        try:
            data = json.loads(line)
        except ValueError:
            yield Row(number, {"_line": line.rstrip("\n")}, {"_error": ("", "not a JSON object")})
            continue
        if not isinstance(data, dict) or set(data) != columns or not all(isinstance(v, str) for v in data.values()):
            got = set(data) if isinstance(data, dict) else set()
            reason = "; ".join(filter(None, [
                (columns - got) and f"missing fields: {', '.join(sorted(columns - got))}",
                (got - columns) and f"unexpected fields: {', '.join(sorted(got - columns))}",
            ])) or "values must be strings"
            yield Row(number, {"_line": line.rstrip("\n")}, {"_error": ("", reason)})
            continue
        yield Row(number, data)
    if not seen_any:
        raise FileProblem(f"{path}: the file is empty; expected JSON Lines with fields {', '.join(spec.columns)}")


def parse(row: Row, spec: Spec) -> tuple[str, str] | None:
    """Fill row.values from row.raw; returns (field, reason) for the first bad value."""
    if "_error" in row.values:
        return row.values["_error"]
    for column, reader in spec.columns.items():
        try:
            row.values[column] = reader(row.raw[column])
        except BadValue as bad:
            return column, str(bad)
    return None


def write_rejects(rejected: list, path: Path, spec: Spec, fmt: str) -> None:
    """rejected: (line, field, reason, raw row) of each bad row, in line order."""
    with private_open(path, "w", replace=True, newline="") as out:  # never through a planted link
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["line", "field", "reason", *spec.columns])
            for line, field_name, reason, raw in rejected:
                writer.writerow([line, field_name, reason, *(raw.get(c, raw.get("_line", "")) for c in spec.columns)])
        else:
            for line, field_name, reason, raw in rejected:
                record = {"_line": line, "_field": field_name, "_reason": reason, **raw}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _shown(name: str) -> str:
    """A header cell as the operator is told of it: quoted when it is not a plain name (a binary
    file's header is NUL bytes and noise), cut short."""
    return name if name.isidentifier() else repr(name[:40]) + ("…" if len(name) > 40 else "")
