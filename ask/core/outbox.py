"""The site's outgoing mail: queued in the outbox (post_office's Email table), delivered by a job.

A mail is queued in the transaction of the change that caused it, so a rolled-back sign-up sends
nothing and a committed one always sends. Delivery is at least once: a run killed between the SMTP
server's answer and the status update sends that batch again.

Mail holding a one-time link (activation, password reset) is queued under its own post_office backend
alias, ONE_TIME_LINK (the same delivery backend), and its body is replaced once it is sent or given
up: the outbox keeps mail for MAIL_RETENTION_DAYS, and it is in the admin and in every backup, where a
live link would let anybody who reads it take the account.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from post_office import mail
from post_office.models import STATUS, Email, Log

from ask.jobs.batches import delete_in_batches

logger = logging.getLogger(__name__)

ONE_TIME_LINK = "one_time_link"  # the backend alias of mail whose body is redacted once sent
REDACTED = "[The one-time link this mail held was removed after it was sent.]"


def mail_queue(*, to: str | list[str], subject: str, body: str, html: str | None = None,
               one_time_link: bool = False) -> Email:
    """Put one mail in the outbox (inside the caller's transaction); send_queued_mail delivers it.

    one_time_link: the body holds a secret link; it is redacted once the mail is sent or given up."""
    return mail.send(
        recipients=[to] if isinstance(to, str) else to,
        sender=settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        message=body,
        html_message=html or "",
        priority="medium",
        backend=ONE_TIME_LINK if one_time_link else "",
    )


@dataclass
class DeliveryPass:
    sent: int = 0
    requeued: int = 0
    given_up: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.requeued + self.given_up


def mail_deliver_batch() -> DeliveryPass:
    """Deliver one batch of due mail; failed tries wait 1, 2, 4, ... × MAIL_RETRY_BASE_SECONDS."""
    started = timezone.now()
    sent, given_up, requeued = mail.send_queued(processes=1)
    if requeued:
        _stretch_retries(since=started)
    one_time_links_redact()
    return DeliveryPass(sent=sent, requeued=requeued, given_up=given_up)


def _stretch_retries(*, since) -> None:
    # post_office retries after a fixed interval; doubling it per try spares a struggling SMTP server.
    retried = list(Email.objects.filter(status=STATUS.requeued, last_updated__gte=since))
    base = settings.MAIL_RETRY_BASE_SECONDS
    for email in retried:
        email.scheduled_time = email.last_updated + timedelta(seconds=base * 2 ** max(0, email.number_of_retries - 1))
    Email.objects.bulk_update(retried, ["scheduled_time"])


def one_time_links_redact() -> int:
    """Blank the bodies of one-time-link mail that is sent or given up (also what a killed run left)."""
    done = Email.objects.filter(backend_alias=ONE_TIME_LINK, status__in=[STATUS.sent, STATUS.failed])
    return done.exclude(message=REDACTED).update(message=REDACTED, html_message="")


def last_delivery_error() -> str:
    log = Log.objects.filter(status=STATUS.failed).order_by("-date").first()
    return f"{log.exception_type}: {log.message}" if log else ""


def mail_prune(*, older_than_days: int, dry_run: bool, batch_size: int) -> int:
    """Delete sent and given-up mail older than the cutoff; queued mail is never deleted."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    old = Email.objects.filter(status__in=[STATUS.sent, STATUS.failed], last_updated__lt=cutoff)
    if dry_run:
        return old.count()
    return delete_in_batches(old, batch_size=batch_size)
