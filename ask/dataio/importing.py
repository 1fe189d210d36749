"""import_data: rows validated one by one, bad ones reported (file, line, field, reason) and written
to a rejects file, good ones upserted by their natural key in batches, so the same file imported
twice changes nothing. --atomic makes it all or nothing. One thread reads and checks the next batch
while the command's thread writes the current one."""
from pathlib import Path
from typing import Iterator

from django.db import connection, transaction

from ask.dataio.files import FileProblem, Row, parse, read_rows, write_rejects
from ask.dataio.readahead import read_ahead
from ask.dataio.seen import SeenKeys
from ask.dataio.specs import SPECS, Spec
from ask.dataio.writer import ImportReport, Writer

__all__ = ["BATCH", "FileProblem", "ImportReport", "import_file", "write_rejects"]

BATCH = 10_000  # rows per transaction in batch mode: ≈ 0.5 s of work on PostgreSQL, a few MB of WAL


def _parsed_batches(path: Path, spec: Spec, fmt: str, report: ImportReport) -> Iterator[list[Row]]:
    """The file's rows with their values read, in batches; rows with a bad value go to the report."""
    batch: list[Row] = []
    for row in read_rows(path, spec, fmt):
        report.read += 1
        problem = parse(row, spec)
        if problem:
            report.rejected.append((row.line, *problem, row.raw))
            continue
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _checked_batches(path: Path, spec: Spec, fmt: str, report: ImportReport, writer: Writer,
                     prepare: bool) -> Iterator[tuple[int, list[Row], dict]]:
    """(rows read, good rows, prepared write) per batch: rows repeating a key of an earlier line, or
    referring to rows that do not exist, go to the report. Runs in the reading thread."""
    seen = SeenKeys()
    try:
        for batch in _parsed_batches(path, spec, fmt, report):
            repeated = seen.repeated([("\x1f".join(str(row.values[k]) for k in spec.key), row.line) for row in batch])
            for index, line in repeated.items():
                report.rejected.append((batch[index].line, ",".join(spec.key), f"the same key as line {line}", batch[index].raw))
            unique = [row for index, row in enumerate(batch) if index not in repeated]
            bad = writer.refs(unique)
            for index in sorted(bad):
                report.rejected.append((unique[index].line, *bad[index], unique[index].raw))
            good = [row for index, row in enumerate(unique) if index not in bad]
            yield len(batch), good, writer.prepare(good) if good and prepare else {}
    finally:
        seen.close()


def import_file(*, path: Path, model: str, fmt: str, atomic: bool, dry_run: bool, report: ImportReport,
                on_batch=None) -> None:
    """Read, validate and write; raises FileProblem for a file that cannot be read on."""
    spec = SPECS[model]
    writer = Writer(spec, report)

    def run() -> None:
        batches = read_ahead(_checked_batches(path, spec, fmt, report, writer, prepare=not dry_run))
        try:
            for size, good, prepared in batches:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        # A batch's commit need not wait for its WAL to reach the disk: the job's run
                        # record, committed at the end as usual, waits for all of it.
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL synchronous_commit TO off")
                    if good and not dry_run:
                        writer.write(good, prepared)
                    report.written += len(good)
                report.batches += 1
                if on_batch:
                    on_batch(size)
        finally:
            batches.close()  # stops the reading thread if a batch failed
            report.rejected.sort(key=lambda rejected: rejected[0])
        if not dry_run:
            writer.finish()

    if atomic or dry_run:
        try:
            with transaction.atomic():
                run()
                if dry_run or report.rejected:
                    transaction.set_rollback(True)
                    if not dry_run:
                        report.written = 0
                    report.forget_writes()
        except FileProblem:
            report.forget_writes()
            raise
    else:
        run()
