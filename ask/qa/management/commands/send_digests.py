from ask.jobs.command import JobCommand
from ask.qa.digests import digests_send


class Command(JobCommand):
    examples = (
        "   # as cron runs it, daily at 06:13",
    )
    help = (
        "Mail each member's digest that is due (daily ones every day, weekly ones once a week): new "
        "questions in the tags they follow and new answers on the questions they asked or follow, "
        "since their last digest, through the outbox. Each member's watermark moves in the transaction "
        "that queues their mail, so a re-run, a second host or a crash mid-run never sends a digest "
        "twice nor skips one. Members with nothing new get no mail."
    )
    catch_up = "once"  # a day's digest late is better than none
    expected_seconds = 1800

    def run(self, job) -> str:
        meter = job.meter(total=None, desc="members", unit="members")
        counts = digests_send(on_member=lambda result: meter.update(1))
        meter.close()
        for name, count in counts.items():
            job.count(name, count)
        return (f"mailed {counts['mailed']} digests, {counts['nothing new']} members had nothing new, "
                f"{counts['taken by another run']} taken by another run")
