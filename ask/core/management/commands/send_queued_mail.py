from ask.core.outbox import last_delivery_error, mail_deliver_batch
from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "   # send what is queued, once",
        "--loop --max-seconds 55   # as cron runs it each minute",
    )
    help = (
        "Deliver the outbox: send due mail in batches (MAIL_BATCH_SIZE) through the e-mail backend, "
        "retry failures with doubling delays, give a mail up after MAIL_MAX_TRIES with its error kept. "
        "Fails when mail was given up or when no mail could be delivered. (Replaces post_office's "
        "command of the same name, so delivery is locked and recorded like every job.)"
    )
    catch_up = "skip"  # every minute: the next minute sends it
    loops = True
    default_max_seconds = 55.0
    default_interval = 5.0

    def run(self, job) -> str:
        def one_pass() -> int:
            delivered = mail_deliver_batch()
            job.count("sent", delivered.sent)
            job.count("retry later", delivered.requeued)
            job.count("given up", delivered.given_up)
            if delivered.attempted:
                job.info(f"sent {delivered.sent}, retry later {delivered.requeued}, given up {delivered.given_up}")
            return delivered.attempted

        job.passes(one_pass)
        sent, later, given_up = (job.counters.get(k, 0) for k in ("sent", "retry later", "given up"))
        if given_up or (later and not sent):
            raise RuntimeError(
                f"{given_up} mail(s) given up, {later} to retry, {sent} sent; last error: {last_delivery_error()}"
            )
        return f"sent {sent} mail(s), {later} to retry later"
