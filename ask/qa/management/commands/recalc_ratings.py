from ask.jobs.command import JobCommand
from ask.qa.counters import RECALC_BATCH_SIZE, counters_recalculate
from ask.qa.models import Question


class Command(JobCommand):
    examples = (
        "--dry-run   # how many counters are wrong",
    )
    help = (
        "Rebuild every denormalised counter (question and answer ratings, answer counts, accepted flags) "
        "from the votes and answers, in batches of questions, and report how many were wrong."
    )
    catch_up = "once"  # weekly: the next is a week away
    expected_seconds = 1800
    changes_data = True
    default_batch_size = RECALC_BATCH_SIZE

    def run(self, job) -> str:
        meter = job.meter(total=Question.objects.count(), desc="questions", unit="questions")

        def batch_done(n: int) -> None:
            meter.update(n)
            job.info(f"checked {n} questions")

        wrong = counters_recalculate(batch_size=job.batch_size, dry_run=job.dry_run, on_batch=batch_done)
        meter.close()
        for name, count in wrong.items():
            job.count(f"wrong {name}", count)
        total = sum(wrong.values())
        verb = "found" if job.dry_run else "fixed"
        details = ", ".join(f"{count} {name}" for name, count in wrong.items())
        return f"{verb} {total} wrong counters ({details})"
