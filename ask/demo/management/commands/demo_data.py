from ask.core.backfill import statistics_backfill
from ask.demo.services import DEMO_EMAIL, DemoRefused, data_first_day, demo_load
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "   # the demo members, questions, restaurants and orders",
    )
    operator_errors = (DemoRefused,)
    help = (
        "Load the demo: a superuser demo@example.com with a random password (printed once, kept in "
        "var/demo-password, readable by you only), 300 questions and 300 orders. Goes only into the "
        "embedded database or one with no users; never changes an existing user."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("--first-start", action="store_true",
                            help="Do nothing when the database has users (what scripts/run does on every start).")

    def run(self, job) -> str:
        meter = job.meter(total=None, desc="demo data", unit="rows")
        result = demo_load(first_start=job.options["first_start"], progress=meter.update)
        meter.close()
        if result.skipped:
            return f"no demo data loaded: {result.skipped}"
        if result.password:
            # Straight to the terminal, never into the run's summary (which the jobs table keeps).
            job.stdout.write(f"Log in as {DEMO_EMAIL} with the password "
                             f"{result.password}\n(also in {result.password_file}, readable by you only)")
        job.count("questions", result.questions)
        job.count("orders", result.orders)
        if result.questions or result.orders:
            statistics_backfill(data_first_day())
        return "demo data loaded" if result.password else "demo data loaded; the demo user's password is unchanged"
