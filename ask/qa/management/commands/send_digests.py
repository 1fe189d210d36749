from ask.jobs.command import JobCommand
from ask.qa.digests import digests_due_preview, digests_send


class Command(JobCommand):
    examples = (
        "   # as cron runs it, daily at 06:13",
        "--dry-run   # who would get a digest now, and how much is in it",
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
    changes_data = True

    def run(self, job) -> str:
        if job.dry_run:
            would = digests_due_preview()
            for user, found in would:
                job.say(f"would mail {user.email}: {len(found.questions) + found.more_questions} new questions, "
                        f"{len(found.answers) + found.more_answers} new answers")
            return f"would mail {len(would)} digests"
        meter = job.meter(total=None, desc="members", unit="members")
        counts = digests_send(on_member=lambda result: meter.update(1))
        meter.close()
        for name, count in counts.items():
            job.count(name, count)
        return (f"mailed {counts['mailed']} digests, {counts['nothing new']} members had nothing new, "
                f"{counts['taken by another run']} taken by another run")
