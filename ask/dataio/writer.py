"""What a batch of checked rows does to the database: the SpecWriter each spec brings (references
looked up, rows upserted by their natural key), and the report of an import as a whole."""
from dataclasses import dataclass, field
from typing import Iterable

from django.db import connection

from ask.dataio.files import Row
from ask.dataio.specs import Spec

Rejections = dict[int, tuple[str, str]]  # index of a row in its batch -> (field, reason)


@dataclass(frozen=True)
class Written:
    """What write() did with a batch's good rows: how many it inserted and how many it changed; the
    others were in the database as they are."""

    new: int = 0
    updated: int = 0

    def __add__(self, other: "Written") -> "Written":
        return Written(self.new + other.new, self.updated + other.updated)


def written_of(returned: list[tuple], changed_too: Iterable = ()) -> Written:
    """Written from upsert(returning=[id, …]) rows (the id first, the inserted flag last), plus the ids
    of rows changed otherwise (their tags, their items) that the upsert did not return."""
    new = {row[0] for row in returned if row[-1]}
    updated = ({row[0] for row in returned if not row[-1]} | set(changed_too)) - new
    return Written(sum(1 for row in returned if row[-1]), len(updated))


@dataclass
class ImportReport:
    """What an import did, batch by batch: new, updated and unchanged count only batches that were
    committed (or, with --dry-run, written and rolled back)."""

    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    batches: int = 0
    rejected: list = field(default_factory=list)  # (line, field, reason, raw)

    @property
    def written(self) -> int:
        return self.new + self.updated

    def add(self, good: int, written: Written) -> None:
        self.new += written.new
        self.updated += written.updated
        self.unchanged += good - written.new - written.updated
        self.batches += 1

    def clear_written(self) -> None:
        """The batches were rolled back after all (--atomic with a rejected row)."""
        self.new = self.updated = self.unchanged = 0


class SpecWriter:
    """Checks and writes the batches of parsed rows of one spec's model, in two threads.

    refs() and prepare() run in the reading thread, on a connection of their own: they only read, so
    they see neither this import's rows of the earlier batches (not committed yet, or not at all with
    --atomic) nor need to: what they must know of those rows the writer remembers itself. write()
    runs in the command's thread, in the batch's transaction, and returns what it did; settle() then
    brings up to date, in the same transaction, what the batch changes elsewhere (counters), so an
    import stopped between batches leaves no counter wrong. With --dry-run each batch is written and
    rolled back, and forget() called instead. After the import apply() does what needs no
    transaction (cached pages), also after an interruption.
    """

    # Tables the rows give explicit ids to: their id sequences are moved past them at the end.
    sequence_tables: tuple[str, ...] = ()
    # Tables the rows go into: those of them empty when an --atomic import begins are loaded as
    # pg_restore loads (ask.core.indexes_after), their indexes and keys built once at the end.
    load_tables: tuple[str, ...] = ()
    # The tables bared so, set by the import: until it commits they hold its rows alone, so every
    # key the import writes there is new (no look-up, and no unique index for ON CONFLICT anyway),
    # and they are locked: refs() and prepare(), on the reading thread's connection, must not read them.
    bare: frozenset[str] = frozenset()
    # import_data --change-active: rows may change whether existing accounts are active (the users
    # spec rejects such rows otherwise, so a file cannot lock out an admin or revive a banned member).
    change_active: bool = False

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def is_bare(self, model) -> bool:
        return model._meta.db_table in self.bare

    def refs(self, rows: list[Row]) -> Rejections:
        """Rows whose references point at nothing, or that break a rule across rows."""
        return {}

    def prepare(self, rows: list[Row]) -> dict:
        """The part of write() that needs no transaction, done while the previous batch is written."""
        return {}

    def write(self, rows: list[Row], prepared: dict) -> Written:
        raise NotImplementedError

    def settle(self) -> None:
        """In the batch's transaction, after write(): update what its rows change elsewhere."""

    def unsettled(self) -> int:
        """How many rows' counters wait for settle() (import_data --atomic settles them late)."""
        return 0

    def finish(self) -> None:
        """After each batch, in its transaction: move the id sequences past the rows' explicit ids
        (PostgreSQL; setval is not rolled back), so the site's next insert gets a free id even when
        the import stops before its end."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in self.sequence_tables:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"GREATEST((SELECT MAX(id) FROM {table}), 1))")

    def forget(self) -> None:
        """The writes were rolled back: nothing of them is to be settled or applied."""

    def apply(self) -> None:
        """After the import, or its interruption: what the committed batches change outside the database."""


def reject_missing(values: list[dict], bad: Rejections, field_name: str, found, what: str) -> None:
    """Reject each row (not rejected yet) whose field_name is not among found."""
    for index, value in enumerate(values):
        if index not in bad and value[field_name] not in found:
            bad[index] = (field_name, f"no {what} {value[field_name]!r}")
