"""scripts/bench transfer: export_data and import_data against raw COPY and pg_restore's way of
loading (issues: data, performance)."""
import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

# Runs argv from a small Python process and prints its peak memory. Linux carries a process's peak
# across fork and exec, so a child started by this (large) process would report our own peak.
_RSS_SHIM = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL);"
             " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def _peak_rss_mb(argv: list[str]) -> tuple[float, float]:
    """Run a child process; returns (seconds, its peak resident memory in MB)."""
    started = time.perf_counter()
    shim = subprocess.run([sys.executable, "-c", _RSS_SHIM, *argv], env={**os.environ, "LOG_LEVEL": "ERROR"},
                          stdout=subprocess.PIPE, check=True, text=True)
    return time.perf_counter() - started, int(shim.stdout.split()[-1]) / 1024


def bench_transfer() -> None:
    """export_data and import_data of the answers (1M at fill_db 10000) against raw COPY TO/FROM of
    the same rows (the import also against pg_restore's way: COPY into the bare table, indexes and
    keys after), and the export's peak memory for a tenth and for all of them (issues: data, performance)."""
    import io
    import tempfile

    from django.core.management import call_command
    from django.db import connection

    from ask.qa.models import Answer, AnswerVote

    from bench import RATIO, figure

    if not Answer.objects.exists():
        call_command("fill_db", str(RATIO), "--seed", "1", "--no-stats", stdout=StringIO())
    work = Path(tempfile.mkdtemp(prefix="ask-bench-transfer-"))
    manage = [sys.executable, str(Path(__file__).resolve().parent.parent / "manage.py")]
    rows = Answer.objects.count()
    tenth = Answer.objects.order_by("-created_at").values_list("created_at", flat=True)[rows // 10]
    _, small_rss = _peak_rss_mb([*manage, "export_data", "answers", "--since", tenth.isoformat(),
                                 "-o", str(work / "tenth.csv")])
    export_seconds, rss = _peak_rss_mb([*manage, "export_data", "answers", "-o", str(work / "answers.csv")])
    columns = "a.id, a.question_id, u.email, a.text, a.created_at, a.is_accepted"
    buffer = io.BytesIO()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY (SELECT {columns} FROM ask_answer a JOIN accounts_user u ON u.id = a.author_id"
                           " ORDER BY a.id) TO STDOUT WITH CSV HEADER", buffer)
    copy_to = time.perf_counter() - started
    del buffer  # see below: no large buffers while child processes are measured
    figure(f"export_data answers ({rows:,} rows), rows/s", f"{rows / export_seconds:,.0f}", f"({export_seconds:.1f}s)")
    figure("raw COPY TO of the same rows, rows/s", f"{rows / copy_to:,.0f}",
           f"ratio {copy_to / export_seconds:.2f}; goal >= 0.5")
    figure("export peak memory: a tenth / all of the rows", f"{small_rss:.0f} / {rss:.0f} MB", "goal: flat")

    # The table's own rows for the raw COPY FROM, in a file: held in memory they would count in the
    # peak memory of every child process started meanwhile.
    table = (work / "ask_answer.copy").open("w+b")
    with connection.cursor() as cursor:
        cursor.copy_expert("COPY ask_answer TO STDOUT", table)
    AnswerVote.objects.all().delete()
    _empty_answers()
    import_seconds, import_rss = _peak_rss_mb([*manage, "import_data", "answers", str(work / "answers.csv")])
    again_seconds, _ = _peak_rss_mb([*manage, "import_data", "answers", str(work / "answers.csv")])
    _empty_answers()
    atomic_seconds, _ = _peak_rss_mb([*manage, "import_data", "answers", str(work / "answers.csv"), "--atomic"])
    copy_from = _copy_answers(table, bare=False)
    restore_way = _copy_answers(table, bare=True)
    figure("import_data answers into an empty table, rows/s", f"{rows / import_seconds:,.0f}",
           f"({import_seconds:.1f}s, batches committed one by one)")
    figure("import_data --atomic, the same", f"{rows / atomic_seconds:,.0f}",
           f"({atomic_seconds:.1f}s, indexes built after)")
    figure("raw COPY FROM into the finished table, rows/s", f"{rows / copy_from:,.0f}",
           f"({copy_from:.1f}s) ratio {copy_from / import_seconds:.2f}")
    figure("COPY into the bare table, indexes and keys after (pg_restore's way)", f"{rows / restore_way:,.0f}",
           f"({restore_way:.1f}s) ratio to --atomic {restore_way / atomic_seconds:.2f}; goal >= 0.5")
    figure("import peak memory (1M rows)", f"{import_rss:.0f} MB")
    figure("import_data of the same file again (writes nothing)", f"{again_seconds:.1f}s",
           f"{rows / again_seconds:,.0f} rows/s")



def _empty_answers() -> None:
    """No answers, and questions counting none (an import adds to the counts)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE ask_answer CASCADE")
        cursor.execute("UPDATE ask_question SET answer_count = 0, has_accepted = false")


def _copy_answers(table, *, bare: bool) -> float:
    """Seconds to put the table's own rows (COPY format, in the file `table`) back into an emptied
    ask_answer: straight into the finished table, or as pg_restore does (ask.core.indexes_after,
    the foreign keys included), committed either way."""
    from django.db import connection, transaction

    from ask.core.indexes_after import indexes_after

    _empty_answers()
    table.seek(0)
    started = time.perf_counter()
    with transaction.atomic(), indexes_after(["ask_answer"] if bare else []), connection.cursor() as cursor:
        cursor.copy_expert("COPY ask_answer FROM STDIN", table)
    return time.perf_counter() - started
