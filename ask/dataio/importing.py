"""import_data: rows validated one by one, bad ones reported (file, line, field, reason) and written
to a rejects file, good ones upserted by their natural key in batches, so the same file imported
twice changes nothing. --atomic makes it all or nothing. One thread reads and checks the next batch
while the command's thread writes the current one."""
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from django.db import DatabaseError, connection, transaction

from ask.core.indexes_after import indexes_after
from ask.dataio.files import FileProblem, Row, parse, read_rows, write_rejects
from ask.dataio.readahead import read_ahead
from ask.dataio.seen import SeenKeys
from ask.dataio.specs import SPECS, Spec, format_of
from ask.dataio.writer import ImportReport, SpecWriter, Written
from ask.jobs.held_signals import signals_held

BATCH = 10_000  # rows per transaction in batch mode: ≈ 0.5 s of work on PostgreSQL, a few MB of WAL
READER_LOCK_TIMEOUT = "20s"
# --atomic settles the counters at the end, or when this many posts' changes wait (memory stays bounded).
UNSETTLED_MAX = 500_000


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


def _checked_batches(path: Path, spec: Spec, fmt: str, report: ImportReport, writer: SpecWriter,
                     prepare: bool) -> Iterator[tuple[int, list[Row], dict]]:
    """(rows read, good rows, prepared write) per batch: rows repeating a key of an earlier line, or
    referring to rows that do not exist, go to the report. Runs in the reading thread."""
    seen = SeenKeys()
    guarded = connection.vendor == "postgresql" and bool(writer.bare)
    if guarded:
        # This thread only reads: a read of a table the import bared (SpecWriter.bare) would wait for
        # the import's commit while the import waits for this thread. Made an error, not a hang.
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{READER_LOCK_TIMEOUT}'")
    try:
        for batch in _parsed_batches(path, spec, fmt, report):
            repeated = seen.repeated([("\x1f".join(str(row.values[k]) for k in spec.key), row.line) for row in batch])
            for index, line in repeated.items():
                report.rejected.append((batch[index].line, ",".join(spec.key), f"the same key as line {line}",
                                        batch[index].raw))
            unique = [row for index, row in enumerate(batch) if index not in repeated]
            bad = writer.refs(unique)
            for index in sorted(bad):
                report.rejected.append((unique[index].line, *bad[index], unique[index].raw))
            good = [row for index, row in enumerate(unique) if index not in bad]
            yield len(batch), good, writer.prepare(good) if good and prepare else {}
    finally:
        seen.close()
        if guarded:  # for a pooled server connection; best effort: the original error, if any, counts
            with suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


def import_file(*, path: Path, spec: Spec, writer: SpecWriter, fmt: str, atomic: bool, dry_run: bool,
                report: ImportReport, on_batch: Callable[[int], None] | None = None) -> None:
    """Read, validate and write; raises FileProblem for a file that cannot be read on.

    Each batch is one transaction with its counters (settle), so whatever stops the import between
    batches leaves the committed ones whole and counted. A dry run writes each batch the same way and
    rolls it back: it reports new, updated and unchanged exactly, holding no lock past its batch.
    With atomic, the writer's empty tables are loaded as pg_restore loads (writer.bare), and the
    counters settled once at the end: the same question updated by batch after batch in one
    transaction made 400,000 answers take 59 s instead of 29 (every update a new row version that
    cannot be pruned, and each foreign-key check on such a row a multixact)."""

    def run(settle_each: bool = True) -> None:
        batches = read_ahead(_checked_batches(path, spec, fmt, report, writer, prepare=True))
        try:
            for size, good, prepared in batches:
                with ExitStack() as after_commit, transaction.atomic():
                    if connection.vendor == "postgresql":
                        # A batch's commit need not wait for its WAL to reach the disk: the job's run
                        # record, committed at the end as usual, waits for all of it.
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL synchronous_commit TO off")
                    written = writer.write(good, prepared) if good else Written()
                    if dry_run:
                        transaction.set_rollback(True)
                        writer.forget()
                    else:
                        if settle_each or writer.unsettled() >= UNSETTLED_MAX:
                            writer.settle()
                        writer.finish()  # the id sequences past this batch's ids, also if the next fails
                    # Held from here until the commit is noted, so the report counts what committed.
                    after_commit.enter_context(signals_held())
                    after_commit.push(lambda failed, *_: None if failed else report.add(len(good), written))
                if on_batch:
                    on_batch(size)
        finally:
            batches.close()  # stops the reading thread if a batch failed
            report.rejected.sort(key=lambda rejected: rejected[0])

    if not atomic or dry_run:
        return run()
    try:
        with transaction.atomic():
            # Into empty tables, as pg_restore loads: a batch's rows no longer pay for every index
            # row by row. Foreign keys stay: the reading thread reads the tables they point at.
            with indexes_after(writer.load_tables, foreign_keys=False) as bare:
                writer.bare = bare
                run(settle_each=False)
            writer.settle()  # after the keys are checked and the indexes are back
            if report.rejected:
                transaction.set_rollback(True)
                report.clear_written()
                writer.forget()
    except FileProblem:
        report.clear_written()
        writer.forget()
        raise


@dataclass
class ImportOutcome:
    """What data_import did, and what the operator is told of it."""

    path: Path
    report: ImportReport
    atomic: bool
    dry_run: bool
    problem: str = ""  # the file could not be read on from some line (FileProblem)
    rejects: Path | None = None  # where the rejected rows were written

    @property
    def nothing_written(self) -> bool:
        return self.atomic and bool(self.report.rejected or self.problem)

    def summary(self) -> str:
        report = self.report
        rejected = f"{len(report.rejected):,} rejected, in {report.batches} batch(es)"
        if self.dry_run:
            return (f"{report.read:,} rows read: {report.new:,} would be new, {report.updated:,} updated, "
                    f"{report.unchanged:,} unchanged, {rejected} (dry run: nothing written)")
        return (f"{report.read:,} rows read, {report.written:,} written: {report.new:,} new, "
                f"{report.updated:,} updated, {report.unchanged:,} unchanged, {rejected}")

    def failure(self) -> str:
        """Why the import counts as failed ("" when it did not)."""
        if self.problem:
            kept = ("nothing written (--atomic)" if self.atomic or self.dry_run
                    else f"{self.report.written:,} rows of earlier batches stay written" if self.report.written
                    else "nothing written")
            return f"{self.problem}; {kept}. {self.summary()}"
        if self.report.rejected:
            atomic = "; nothing written (--atomic)" if self.nothing_written else ""
            return f"{self.summary()}{atomic}; rejected rows are in {self.rejects}"
        return ""

    def rejected_lines(self, limit: int) -> list[str]:
        return [f"{self.path}: line {line}: {field_name or 'row'}: {reason}"
                for line, field_name, reason, _ in self.report.rejected[:limit]]


def data_import(*, path: Path, model: str, fmt: str | None = None, atomic: bool = False, dry_run: bool = False,
                rejects: Path | None = None, on_batch: Callable[[int], None] | None = None,
                change_active: bool = False, report: ImportReport | None = None) -> ImportOutcome:
    """Import a file written by export_data; bad rows go to the rejects file (default
    FILE.rejects.csv/.jsonl). Raises FileProblem for a file that is not there. report: filled in as
    the batches commit, so a caller interrupted meanwhile still knows what was done."""
    if not path.is_file():
        raise FileProblem(f"{path}: {'not a regular file' if path.exists() else 'no such file'}.")
    spec, fmt = SPECS[model], fmt or format_of(path)
    writer, report = spec.writer(spec), report if report is not None else ImportReport()
    writer.change_active = change_active
    outcome = ImportOutcome(path, report, atomic, dry_run)
    try:
        import_file(path=path, spec=spec, writer=writer, fmt=fmt, atomic=atomic, dry_run=dry_run, report=report,
                    on_batch=on_batch)
    except FileProblem as error:
        outcome.problem = str(error)
    finally:
        if not dry_run:  # also after a file problem or an interruption: the batches before it stay written
            writer.apply()
    if report.rejected:
        outcome.rejects = rejects or Path(f"{path}.rejects.{fmt}")
        write_rejects(report.rejected, outcome.rejects, spec, fmt)
    return outcome
