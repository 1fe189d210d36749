from django.conf import settings

from ask.jobs.command import JobCommand
from orders.processing import orders_process_pass


class Command(JobCommand):
    examples = (
        "   # move due orders on, once",
        "--loop --max-seconds 55   # as cron runs it each minute",
    )
    help = (
        "Move due orders one step each: start cooking when the ETA is within ORDERS_LEAD_MINUTES (a "
        "ticket to every restaurant), cancel when the ETA passed first, mark cooked, request a driver, "
        "follow the delivery, and keep the minutes late up to date. Claims orders with SELECT … FOR "
        "UPDATE SKIP LOCKED, so any number may run at once on any number of hosts."
    )
    exclusive = False  # coordinated by row locks in the database, not by the job lock
    loops = True
    # ORDERS_BATCH_SIZE (100): orders one pass claims and moves, in one transaction well under a second.
    default_batch_size = settings.ORDERS_BATCH_SIZE

    def run(self, job) -> str:
        def one_pass() -> int:
            result = orders_process_pass(batch_size=job.batch_size)
            for status, count in result.moved.items():
                job.count(f"to {status}", count)
            job.count("claimed", result.claimed)
            if result.errors:
                job.count("errors", result.errors)
            if result.claimed:
                job.info(f"claimed {result.claimed}, advanced {result.advanced}, errors {result.errors}")
            return result.claimed

        job.passes(one_pass)
        errors = job.counters.get("errors", 0)
        if errors:
            raise RuntimeError(f"{errors} order step(s) failed (retried in a minute); see the log")
        moved = sum(v for k, v in job.counters.items() if k.startswith("to "))
        return f"advanced {moved} order step(s)"


