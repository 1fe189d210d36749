from ask.jobs.command import JobCommand
from ask.jobs.missed import catch_up


class Command(JobCommand):
    examples = (
        "-v2   # which slots were missed and what it starts",
    )
    help = (
        "Find the scheduled runs that no host made (every host down at 04:07, say): record each as "
        "missed, and for jobs that declare catch_up = \"once\" start one run for the newest missed slot, "
        "unless a later scheduled run has happened since. `manage.py jobs` and /healthz show missed slots."
    )
    changes_data = True
    expected_seconds = 30

    def run(self, job) -> str:
        counts = catch_up(dry_run=job.dry_run, say=job.say)
        for counter, value in counts.items():
            job.count(counter, value)
        record, make = ("would record", "would make") if job.dry_run else ("recorded", "made")
        return f"{record} {counts['missed']} missed slot(s), {make} up {counts['made up']}"
