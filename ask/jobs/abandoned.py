"""A transaction an interrupt left behind.

Ctrl-C or SIGTERM raised while Django is inside `atomic()` can leave the connection in a state no
code will ever end, and Django's own flags need not say so:
- marked as inside a transaction (`Atomic.__enter__` began it, its body never ran): the run's record
  could not be written ("could not record the end");
- outside any atomic block but with autocommit still off (`Atomic.__exit__` committed and left the
  block, and the interrupt came before it turned autocommit back on);
- the driver's autocommit off while Django's flag still says on (the interrupt came inside
  `set_autocommit(False)`, between the driver's switch and Django's note of it).
In the last two the record's UPDATE went into an implicit transaction that nobody committed, lost
when the process exited: the run showed as running for good although the process had exited 130.
Rather than trusting flags an interrupt can leave half-set, the connection is replaced.
"""
from django.db import connection


def transaction_abandon(*, was_outside: bool) -> bool:
    """After an interrupt, start the run's record on a new connection when the run started outside
    any transaction: the server rolls back whatever the old one left open as it closes (what was
    committed stays). Returns whether a connection was closed.

    A run started inside a transaction (a test's) is left alone: that transaction is its caller's.
    """
    if not was_outside or connection.connection is None:
        return False
    connection.in_atomic_block = False
    connection.savepoint_ids = []
    connection.atomic_blocks = []
    connection.needs_rollback = False
    connection.closed_in_transaction = False
    connection.close()
    return True
