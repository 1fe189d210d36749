"""Runs a manage.py command and counts the SQL statements it sends on every connection, writing the
running total to a file each second: how the bench measures an idle processor's load on the database
in statements (pg_stat_database counts only transactions). Usage: bench_counted.py FILE COMMAND [ARGS]"""
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ask.settings")

import django  # noqa: E402

django.setup()
from django.core.management import execute_from_command_line  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

sent = [0]


def _counted(execute, sql, params, many, context):
    sent[0] += 1
    return execute(sql, params, many, context)


def _on_connect(sender, connection, **kwargs) -> None:
    if _counted not in connection.execute_wrappers:
        connection.execute_wrappers.append(_counted)


def _report(path: Path) -> None:
    while True:
        path.write_text(str(sent[0]))
        time.sleep(1)


connection_created.connect(_on_connect)
threading.Thread(target=_report, args=(Path(sys.argv[1]),), daemon=True).start()
execute_from_command_line(["manage.py", *sys.argv[2:]])
