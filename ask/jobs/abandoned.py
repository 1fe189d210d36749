"""A transaction an interrupt left behind.

Ctrl-C or SIGTERM raised while Django is inside `Atomic.__exit__` (committing, or between its
commit and resetting its own flags) leaves the connection marked as inside a transaction that no
code will ever end. The run's record could then not be written ("could not record the end"), and the
run showed as running for good although the process had exited 130.
"""
from django.db import connection


def transaction_abandon(*, was_outside: bool) -> bool:
    """Forget a transaction left open by an interrupt, when the run started outside any; the server
    rolls it back as the connection closes (what was committed stays). Returns whether there was one.

    A run started inside a transaction (a test's) is left alone: that transaction is its caller's.
    """
    if not was_outside or not connection.in_atomic_block:
        return False
    connection.in_atomic_block = False
    connection.savepoint_ids = []
    connection.atomic_blocks = []
    connection.needs_rollback = False
    connection.closed_in_transaction = False
    connection.close()
    return True
