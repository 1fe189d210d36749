from django.db.models import Min

from ask.core.backfill import statistics_backfill
from ask.jobs.command import JobCommand, positive_int
from orders.filling import NoSuchUser, orders_fill, staff_add
from orders.models import Order


class Command(JobCommand):
    examples = (
        "500 --seed 1",
        "50 --staff kitchen@example.com   # also a staff member to try the kitchen pages",
    )
    operator_errors = (NoSuchUser,)
    help = (
        "Demo and volume data for food ordering: five restaurants with menus (created once), N/20 "
        "customers, and N orders spread over every status, the last 30 days and the next 3, with items, "
        "tickets, deliveries and a history consistent with each status. One transaction (COPY)."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("count", type=positive_int, help="How many orders.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when there are orders already.")
        parser.add_argument("--seed", type=int, help="Random seed, for the same data every time.")
        parser.add_argument("--staff", metavar="EMAIL",
                            help="Make this user staff of the restaurants that push (to try the kitchen pages).")

    def run(self, job) -> str:
        if job.options["staff"]:
            staff_add(job.options["staff"])
        if job.options["if_empty"] and Order.objects.exists():
            return "orders exist already; nothing done (--if-empty)"
        meter = job.meter(total=None, desc="fill_orders", unit="rows")
        result = orders_fill(count=job.options["count"], seed=job.options["seed"], progress=meter.update)
        meter.close()
        job.count("orders", result.orders)
        job.count("customers", result.customers)
        job.count("rows", result.rows)
        if not job.dry_run:
            statistics_backfill(Order.objects.aggregate(first=Min("created_at"))["first"])
        return f"wrote {result.orders:,} orders for {result.customers} customers ({result.rows:,} rows)"
