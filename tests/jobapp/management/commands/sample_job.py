import os
import time
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connection, transaction

from ask.jobs.command import JobCommand
from tests.jobapp.models import SampleRow


class Command(JobCommand):
    help = "A sample job for the tests: works through --rows rows in batches, optionally slowly or failing."
    changes_data = True
    default_batch_size = 10
    loops = True
    # Set per child process by tests of missed slots and duration bounds.
    catch_up = os.environ.get("SAMPLE_JOB_CATCH_UP", "once")
    expected_seconds = float(os.environ.get("SAMPLE_JOB_EXPECTED_SECONDS", 0)) or None
    timeout = float(os.environ.get("SAMPLE_JOB_TIMEOUT", 3600))

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, default=30)
        parser.add_argument("--sleep", type=float, default=0.0, help="Seconds to sleep while holding the lock.")
        parser.add_argument("--fail", action="store_true", help="Raise an unexpected error.")
        parser.add_argument("--refuse", action="store_true", help="Raise a CommandError (operator error).")
        parser.add_argument("--touch", help="Append a line to this file when the work is done.")
        parser.add_argument("--write", action="store_true", help="Write a SampleRow per batch, each in a transaction.")
        parser.add_argument("--autocommit", action="store_true", help="With --write: each row on its own, no atomic().")
        parser.add_argument("--interrupted-in-atomic", action="store_true",
                            help="Ctrl-C where Django's atomic() has begun its transaction but its with-body has "
                                 "not (the window an interrupt can leave a transaction nobody ends in).")
        parser.add_argument("--interrupted-after-commit", action="store_true",
                            help="Ctrl-C where Django's atomic() has committed and left its block but not yet "
                                 "turned autocommit back on (the next write would be in a transaction nobody ends).")
        parser.add_argument("--interrupted-while-beginning", action="store_true",
                            help="Ctrl-C inside Django's set_autocommit(False), after the driver turned autocommit off "
                                 "and before Django's own flag says so (the flag says autocommit, the driver not).")
        parser.add_argument("--sql-sleep", action="store_true", help="Sleep in PostgreSQL (pg_sleep), not in Python.")

    def run(self, job) -> str | None:
        if job.options["refuse"]:
            raise CommandError("sample input is bad: line 3, field 'x'")
        if job.options["interrupted_in_atomic"]:
            SampleRow.objects.create(pid=os.getpid(), row=-1)  # committed before the interrupt: stays
            transaction.atomic().__enter__()
            SampleRow.objects.create(pid=os.getpid(), row=-2)  # in the abandoned transaction: rolled back
            raise KeyboardInterrupt
        if job.options["interrupted_after_commit"]:
            with transaction.atomic():
                SampleRow.objects.create(pid=os.getpid(), row=-1)  # committed: stays
            transaction.get_connection().set_autocommit(False)  # as Atomic.__exit__ is before its last step
            raise KeyboardInterrupt
        if job.options["interrupted_while_beginning"]:
            SampleRow.objects.create(pid=os.getpid(), row=-1)  # committed: stays
            transaction.get_connection()._set_autocommit(False)  # the driver's half of set_autocommit(False)
            raise KeyboardInterrupt
        job.passes(lambda: self._one_pass(job))
        if job.options["fail"]:
            raise RuntimeError("sample failure")
        if job.options["touch"] and not job.dry_run:
            with Path(job.options["touch"]).open("a") as marker:
                marker.write("worked\n")
        return None

    def _one_pass(self, job) -> int:
        job.count("passes")
        rows = range(job.options["rows"])
        starts = range(0, len(rows), job.batch_size)
        for start in job.progress(starts, total=-(-len(rows) // job.batch_size), unit="batches"):
            batch = rows[start:start + job.batch_size]
            for row in batch:
                job.detail(f"row {row}")
            job.count("rows", len(batch))
            job.info(f"batch of {len(batch)} rows")
            pause = job.options["sleep"] / max(1, len(rows) // job.batch_size)
            if job.options["sql_sleep"]:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(%s)", [pause])
            else:
                time.sleep(pause)
            if job.options["write"] and not job.dry_run:
                if job.options["autocommit"]:
                    for row in batch:
                        SampleRow.objects.create(pid=os.getpid(), row=row)
                    continue
                with transaction.atomic():
                    SampleRow.objects.bulk_create([SampleRow(pid=os.getpid(), row=row) for row in batch])
        return 0
