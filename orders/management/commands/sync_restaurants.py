from ask.jobs.command import JobCommand
from orders.processing import restaurants_sync


class Command(JobCommand):
    examples = (
        "-v2",
    )
    help = (
        "Ask the kitchens of polled restaurants where the tickets of cooking orders are, and record "
        "what changed (the processor then moves those orders on)."
    )
    catch_up = "skip"  # every minute: the next minute does it
    expected_seconds = 50
    default_batch_size = 500  # tickets per round of questions to the kitchens

    def run(self, job) -> str:
        counts = restaurants_sync(batch_size=job.batch_size)
        job.count("tickets polled", counts["polled"])
        job.count("tickets changed", counts["changed"])
        return f"polled {counts['polled']} ticket(s), {counts['changed']} changed"
