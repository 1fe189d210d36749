"""What a batch of checked rows does to the database: the SpecWriter each spec brings (references
looked up, rows upserted by their natural key), and the report of an import as a whole."""
from dataclasses import dataclass, field

from django.db import connection

from ask.dataio.files import Row
from ask.dataio.specs import Spec

Rejections = dict[int, tuple[str, str]]  # index of a row in its batch -> (field, reason)


@dataclass
class ImportReport:
    read: int = 0
    written: int = 0
    batches: int = 0
    rejected: list = field(default_factory=list)  # (line, field, reason, raw)


class SpecWriter:
    """Checks and writes the batches of parsed rows of one spec's model, in two threads.

    refs() and prepare() run in the reading thread, on a connection of their own: they only read, so
    they see neither this import's rows of the earlier batches (not committed yet, or not at all with
    --atomic) nor need to: what they must know of those rows the writer remembers itself. write()
    runs in the command's thread, in its transaction. After the import, forget() (it was rolled
    back) or apply() (what the written rows change elsewhere: counters, cached pages) is called.
    """

    # Tables the rows give explicit ids to: their id sequences are moved past them at the end.
    sequence_tables: tuple[str, ...] = ()
    # import_data --change-active: rows may change whether existing accounts are active (the users
    # spec rejects such rows otherwise, so a file cannot lock out an admin or revive a banned member).
    change_active: bool = False

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def refs(self, rows: list[Row]) -> Rejections:
        """Rows whose references point at nothing, or that break a rule across rows."""
        return {}

    def prepare(self, rows: list[Row]) -> dict:
        """The part of write() that needs no transaction, done while the previous batch is written."""
        return {}

    def write(self, rows: list[Row], prepared: dict) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """After the last batch, in the import's transaction: move the id sequences (PostgreSQL)."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in self.sequence_tables:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"GREATEST((SELECT MAX(id) FROM {table}), 1))")

    def forget(self) -> None:
        """The writes were rolled back: nothing of them is to be applied."""

    def apply(self) -> None:
        """After the import: bring up to date what the written rows change elsewhere."""


def reject_missing(values: list[dict], bad: Rejections, field_name: str, found, what: str) -> None:
    """Reject each row (not rejected yet) whose field_name is not among found."""
    for index, value in enumerate(values):
        if index not in bad and value[field_name] not in found:
            bad[index] = (field_name, f"no {what} {value[field_name]!r}")
