from accounts.cleanup import abandoned_sign_ups, abandoned_sign_ups_delete, expired_keys, expired_keys_delete
from ask.jobs.command import JobCommand

# 1,000 users per transaction: each batch deletes their keys too, ≈ 0.1 s and a few MB of WAL.
BATCH_SIZE = 1000


class Command(JobCommand):
    examples = (
        "--dry-run   # what would be deleted",
    )
    help = (
        "Delete abandoned sign-ups (accounts never activated, never logged in, without content, whose "
        "newest activation key expired more than ACCOUNTS_CLEANUP_GRACE_DAYS ago) and expired keys. "
        "Never deletes an active account or one an admin deactivated. Logs every deleted user id."
    )
    catch_up = "once"  # daily housekeeping: a day late is worse than a run at another hour
    expected_seconds = 600
    changes_data = True
    default_batch_size = BATCH_SIZE

    def run(self, job) -> str:
        if job.dry_run:
            for user in abandoned_sign_ups().only("pk", "email", "date_joined").iterator():
                job.say(f"would delete user {user.pk} <{user.email}> joined {user.date_joined:%Y-%m-%d}")
                job.count("users")
            keys = expired_keys().count()
            return f"would delete {job.counters.get('users', 0)} abandoned sign-ups and {keys} expired keys"
        meter = job.meter(total=abandoned_sign_ups().count(), desc="abandoned sign-ups", unit="users")

        def batch_done(n: int) -> None:
            meter.update(n)
            job.info(f"deleted a batch of {n} users")

        users = abandoned_sign_ups_delete(batch_size=job.batch_size, on_batch=batch_done)
        meter.close()
        keys = expired_keys_delete(batch_size=job.batch_size)
        job.count("users deleted", users)
        job.count("keys deleted", keys)
        return f"deleted {users} abandoned sign-ups and {keys} expired keys"
