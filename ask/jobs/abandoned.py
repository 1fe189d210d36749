"""A transaction an interrupt left behind.

Ctrl-C or SIGTERM raised while Django is inside `atomic()` can leave the connection in one of two
states no code will ever end:
- marked as inside a transaction (`Atomic.__enter__` began it, its body never ran): the run's record
  could not be written ("could not record the end");
- outside any atomic block but with autocommit still off (`Atomic.__exit__` committed and left the
  block, and the interrupt came before it turned autocommit back on): the record's UPDATE went into
  an implicit transaction that nobody committed, lost when the process exited.
Either way the run showed as running for good although the process had exited 130.
"""
from django.db import connection


def transaction_abandon(*, was_outside: bool) -> bool:
    """Forget a transaction left open by an interrupt, when the run started outside any; the server
    rolls it back as the connection closes (what was committed stays). Returns whether there was one.

    A run started inside a transaction (a test's) is left alone: that transaction is its caller's.
    """
    open_without_block = connection.connection is not None and not connection.autocommit
    if not was_outside or not (connection.in_atomic_block or open_without_block):
        return False
    connection.in_atomic_block = False
    connection.savepoint_ids = []
    connection.atomic_blocks = []
    connection.needs_rollback = False
    connection.closed_in_transaction = False
    connection.close()
    return True
