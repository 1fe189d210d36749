"""One archive_wal run: pg_receivewal streaming for the run's length, the manifest signed every pass,
and the log no kept base backup needs any more pruned first."""
from dataclasses import dataclass

from ask.core.base_backups import base_backups
from ask.core.wal_archive import (ArchiveError, ArchivePass, Receiver, archive_begin_new, archive_pass, archive_prune,
                                  manifest_read)


@dataclass
class ArchiveRun:
    passes: ArchivePass
    pruned: list


def prune_point() -> str | None:
    """The first segment the oldest kept base backup needs; None with no base backup."""
    backups = base_backups()
    return min((b.start_segment for b in backups), key=lambda name: name[8:], default=None)


def archive_run(job) -> ArchiveRun:
    """Stream, and sign each --interval; job.passes decides how long (once, or --loop to --max-seconds)."""
    keep_from = prune_point()
    if job.dry_run:
        try:
            return ArchiveRun(ArchivePass(), archive_prune(keep_from, dry_run=True))
        except ArchiveError:  # a manifest it cannot use: archive_reach() says why; nothing would go
            return ArchiveRun(ArchivePass(), [])
    state = ArchivePass(new_archive=job.options.get("new_archive", False))
    if state.new_archive:
        aside = archive_begin_new()
        if aside:
            job.info(f"the old archive moved aside to {aside}")
    pruned = archive_prune(keep_from)
    receiver = Receiver()
    archive_pass(state)  # before the stream: a new archive's manifest exists before its first file
    receiver.start()
    try:
        job.stop.wait(1)  # its connection and first write
        receiver.check()

        def one_pass() -> int:
            receiver.check()
            archive_pass(state)
            return 0  # always pause: pg_receivewal streams on by itself between passes

        job.passes(one_pass)
    finally:
        receiver.stop()
    archive_pass(state)  # what it flushed before it stopped
    return ArchiveRun(state, pruned)


def archive_reach() -> str:
    """ "the archive covers the log to 0/5000148, everything committed by 2026-12-06 15:17:15 UTC" """
    try:
        body = manifest_read()
    except ArchiveError as error:
        return f"no archive to read ({error})"
    return (f"the archive covers the log to {body['covered_lsn'] or 'nothing yet'}, everything committed by "
            f"{body['caught_up_at'] or 'nothing yet'}")
