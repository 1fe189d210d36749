from django.conf import settings

from ask.jobs.command import JobCommand
from orders.processing import orders_process_pass
from orders.wakeup import Waker


class Command(JobCommand):
    examples = (
        "   # move due orders on, once",
        "--loop --max-seconds 55   # as cron runs it each minute",
    )
    help = (
        "Move due orders one step each, on a plan worked backward from the chosen time: send each "
        "restaurant its ticket when its cooking is to start, book the driver for the planned pickup, "
        "cancel when the time passed before cooking, mark cooked, follow the delivery, and tell the "
        "customer when an order runs late. Claims orders with SELECT … FOR "
        "UPDATE SKIP LOCKED, so any number may run at once on any number of hosts. With --loop an idle "
        "processor waits for PostgreSQL's NOTIFY of a new or reported order, or the next order's due "
        "time, or --interval at the longest (polling, as on SQLite)."
    )
    exclusive = False  # coordinated by row locks in the database, not by the job lock
    loops = True
    # ORDERS_BATCH_SIZE (100): orders one pass claims and moves, in one transaction well under a second.
    default_batch_size = settings.ORDERS_BATCH_SIZE

    def run(self, job) -> str:
        waker = Waker(job.stop)
        try:
            job.passes(lambda: self.one_pass(job), wait=waker.wait)
        finally:
            waker.close()
        if waker.notified:
            job.count("woken by notifications", waker.notified)
        errors = job.counters.get("errors", 0)
        if errors:
            raise RuntimeError(f"{errors} order step(s) failed (retried in a minute); see the log")
        moved = sum(v for k, v in job.counters.items() if k.startswith("to "))
        return f"advanced {moved} order step(s)"

    def one_pass(self, job) -> int:
        result = orders_process_pass(batch_size=job.batch_size)
        for status, count in result.moved.items():
            job.count(f"to {status}", count)
        job.count("claimed", result.claimed)
        if result.errors:
            job.count("errors", result.errors)
        if result.claimed:
            job.info(f"claimed {result.claimed}, advanced {result.advanced}, errors {result.errors}")
        return result.claimed
