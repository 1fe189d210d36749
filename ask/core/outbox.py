"""The site's outgoing mail: queued in the outbox (post_office's Email table), delivered by a job.

A mail is queued in the transaction of the change that caused it, so a rolled-back sign-up sends
nothing and a committed one always sends. Delivery is one mail at a time, each marked sent the
moment its SMTP server has taken it (post_office's own sender marks a whole batch after sending it
all, so a run killed mid-batch sent every mail of the batch again: seen on the rig of hosts). So
delivery is at least once only for the one mail whose run dies in the millisecond between the SMTP
server's answer and that update.

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
from post_office.connections import connections
from post_office.models import STATUS, Email, Log
from post_office.settings import get_default_mailer

from ask.jobs.batches import delete_in_batches

logger = logging.getLogger(__name__)

ONE_TIME_LINK = "one_time_link"  # the backend alias of mail whose body is redacted once sent
REDACTED = "[The one-time link this mail held was removed after it was sent.]"


def mail_queue(*, to: str | list[str], subject: str, body: str, html: str | None = None,
               one_time_link: bool = False, headers: dict[str, str] | None = None) -> Email:
    """Put one mail in the outbox (inside the caller's transaction); send_queued_mail delivers it.

    one_time_link: the body holds a secret link; it is redacted once the mail is sent or given up.
    headers: extra ones (List-Unsubscribe)."""
    return mail.send(
        recipients=[to] if isinstance(to, str) else to,
        sender=settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        message=body,
        html_message=html or "",
        priority="medium",
        backend=ONE_TIME_LINK if one_time_link else "",
        headers=headers or None,
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
    """Deliver one batch of due mail (MAIL_BATCH_SIZE), one SMTP connection per backend for the
    batch; failed tries wait 1, 2, 4, ... × MAIL_RETRY_BASE_SECONDS, and a mail is given up after
    MAIL_MAX_TRIES."""
    done = DeliveryPass()
    batch = list(mail.get_queued())
    try:
        for email in batch:
            alias = email.backend_alias or get_default_mailer()
            try:
                email.dispatch(commit=False, disconnect_after_delivery=False, connection=connections[alias])
            except Exception as exc:  # the SMTP server refused it, or is out of reach: tried again later
                if _retry_later(email, exc):
                    done.requeued += 1
                else:
                    done.given_up += 1
            else:
                Email.objects.filter(pk=email.pk).update(status=STATUS.sent, last_updated=timezone.now())
                done.sent += 1
    finally:
        connections.close()
    one_time_links_redact()
    return done


def _retry_later(email: Email, exc: Exception) -> bool:
    """Note the failure; requeue the mail with a doubled wait, or give it up after its last try."""
    logger.warning("mail %s not delivered: %s: %s", email.pk, type(exc).__name__, exc)
    Log.objects.create(email=email, status=STATUS.failed, message=str(exc), exception_type=type(exc).__name__)
    tries, now = email.number_of_retries or 0, timezone.now()
    if tries >= settings.POST_OFFICE["MAX_RETRIES"]:
        Email.objects.filter(pk=email.pk).update(status=STATUS.failed, last_updated=now)
        return False
    wait = timedelta(seconds=settings.MAIL_RETRY_BASE_SECONDS * 2 ** tries)
    Email.objects.filter(pk=email.pk).update(status=STATUS.requeued, number_of_retries=tries + 1,
                                             scheduled_time=now + wait, last_updated=now)
    return True


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
