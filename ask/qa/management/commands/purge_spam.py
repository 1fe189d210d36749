from ask.jobs.command import JobCommand
from ask.qa.moderation import purgeable, spam_purge

# 500 posts per transaction, with their records, votes, flags and revisions: well under a second.
BATCH_SIZE = 500


class Command(JobCommand):
    examples = (
        "--dry-run   # list what would be deleted",
    )
    help = (
        "Delete the questions and answers a moderator hid as spam more than QA_SPAM_GRACE_DAYS ago, "
        "with their votes, flags and history, keeping a record of each (PurgedPost: its author, title, "
        "an excerpt, when it was hidden). A post restored before then is kept. Daily at 04:37."
    )
    catch_up = "once"  # daily housekeeping: a day late is worse than a run at another hour
    expected_seconds = 600
    changes_data = True
    default_batch_size = BATCH_SIZE

    def run(self, job) -> str:
        if job.dry_run:
            for queryset in purgeable():
                for post in queryset.only("pk", "author_id", "hidden_at").iterator():
                    job.say(f"would delete {queryset.model._meta.model_name} {post.pk} by member {post.author_id}, "
                            f"hidden {post.hidden_at:%Y-%m-%d %H:%M}")
                    job.count(f"{queryset.model._meta.model_name}s")
            return (f"would delete {job.counters.get('questions', 0)} questions and "
                    f"{job.counters.get('answers', 0)} answers hidden as spam")
        deleted = spam_purge(batch_size=job.batch_size, on_batch=lambda n: job.info(f"deleted a batch of {n} posts"))
        job.count("questions deleted", deleted["question"])
        job.count("answers deleted", deleted["answer"])
        return f"deleted {deleted['question']} questions and {deleted['answer']} answers hidden as spam"
