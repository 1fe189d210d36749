"""The outbox: mail queued with the change that caused it, delivered by send_queued_mail."""
import json
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from io import StringIO

import pytest
from django.core.mail import send_mail
from django.core.management import call_command, get_commands, load_command_class
from django.db import transaction
from django.utils import timezone
from post_office.models import STATUS, Email

from ask.core.outbox import mail_queue
from ask.jobs.command import JobCommand
from ask.jobs.models import JobRun
from ask.jobs.runner import JobFailed
from tests.support import process_env, start_manage, wait_for


def deliver(*args) -> str:
    out = StringIO()
    call_command("send_queued_mail", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def make_due() -> None:
    Email.objects.filter(status=STATUS.requeued).update(scheduled_time=timezone.now() - timedelta(seconds=1))


def test_send_queued_mail_is_the_sites_job_not_post_offices_command():
    name = "send_queued_mail"
    assert get_commands()[name] == "ask.core"
    assert isinstance(load_command_class("ask.core", name), JobCommand)


@pytest.mark.django_db
def test_a_queued_mail_waits_in_the_outbox_until_the_job_delivers_it(smtp):
    smtp.start()
    mail_queue(to="ada@example.com", subject="Hello", body="Body text")
    send_mail("Via Django", "Also queued", None, ["bob@example.com"])  # Django's own mail joins the queue
    assert smtp.messages == [] and Email.objects.filter(status=STATUS.queued).count() == 2
    assert "sent 2 mail(s), 0 to retry later" in deliver()
    assert sorted(e.rcpt_tos[0] for e in smtp.messages) == ["ada@example.com", "bob@example.com"]
    assert Email.objects.filter(status=STATUS.sent).count() == 2
    deliver()
    assert len(smtp.messages) == 2, "a sent mail is never sent again"


@pytest.mark.django_db
def test_mail_queued_in_a_rolled_back_transaction_is_never_sent(smtp):
    smtp.start()
    with pytest.raises(RuntimeError), transaction.atomic():
        mail_queue(to="ada@example.com", subject="Hello", body="Body")
        raise RuntimeError("the change failed")
    assert not Email.objects.exists()


@pytest.mark.django_db
def test_an_smtp_outage_delays_mail_with_doubling_retries_and_loses_none(smtp, settings):
    settings.MAIL_RETRY_BASE_SECONDS = 60
    mail_queue(to="ada@example.com", subject="Hello", body="Body")
    with pytest.raises(JobFailed, match="0 sent; last error: ConnectionRefusedError"):
        deliver()
    email = Email.objects.get()
    assert email.status == STATUS.requeued and email.number_of_retries == 1
    assert timedelta(seconds=55) < email.scheduled_time - timezone.now() <= timedelta(seconds=60)
    deliver()  # not due yet: nothing tried, nothing failed
    assert Email.objects.get().number_of_retries == 1
    make_due()
    with pytest.raises(JobFailed):
        deliver()
    email = Email.objects.get()
    assert email.number_of_retries == 2
    assert timedelta(seconds=115) < email.scheduled_time - timezone.now() <= timedelta(seconds=120)
    smtp.start()
    make_due()
    assert "sent 1 mail(s)" in deliver()
    assert len(smtp.messages) == 1 and Email.objects.get().status == STATUS.sent


@pytest.mark.django_db
def test_a_mail_is_given_up_after_the_last_try_with_its_error_kept(smtp, settings):
    settings.POST_OFFICE = {**settings.POST_OFFICE, "MAX_RETRIES": 2}
    mail_queue(to="ada@example.com", subject="Hello", body="Body")
    for _ in range(3):
        make_due()
        with pytest.raises(JobFailed):
            deliver()
    email = Email.objects.get()
    assert email.status == STATUS.failed
    assert "given up" in JobRun.objects.order_by("-pk").first().error
    assert email.logs.filter(status=STATUS.failed).count() == 3
    assert "Connection refused" in email.logs.first().message


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_every_mail_exactly_once(smtp, var_dir):
    smtp.start()
    for n in range(30):
        mail_queue(to=f"user{n}@example.com", subject=f"Mail {n}", body="Body")
    env = process_env(var_dir, TEST_POST_OFFICE=json.dumps({"host": "127.0.0.1", "port": smtp.port}),
                      ASK_JOB_SCHEDULED="1")  # as cron starts them (by hand, the skipped one exits 75)
    # In loop mode the first sender holds the lock for 3 s, so the runs surely overlap.
    procs = [start_manage("send_queued_mail", "--loop", "--max-seconds", "3", "--interval", "0.5", env=env)
             for _ in range(2)]
    for proc in procs:
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    assert sorted(e.rcpt_tos[0] for e in smtp.messages) == sorted(f"user{n}@example.com" for n in range(30))
    assert sorted(JobRun.objects.values_list("status", flat=True)) == ["ok", "skipped"]


@pytest.mark.django_db
def test_prune_mail_deletes_old_sent_and_failed_mail_never_queued_mail(settings):
    old = timezone.now() - timedelta(days=31)
    for name in ("sent", "failed", "queued", "requeued"):
        email = mail_queue(to="a@example.com", subject=name, body="x")
        Email.objects.filter(pk=email.pk).update(status=getattr(STATUS, name), last_updated=old)
    mail_queue(to="a@example.com", subject="recent sent", body="x")
    Email.objects.filter(subject="recent sent").update(status=STATUS.sent)
    out = StringIO()
    call_command("prune_mail", "--dry-run", stdout=out)
    assert "would delete 2 mails older than 30 days" in out.getvalue()
    call_command("prune_mail", stdout=StringIO())
    assert sorted(Email.objects.values_list("subject", flat=True)) == ["queued", "recent sent", "requeued"]


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_batch_sends_no_mail_twice_and_loses_none(smtp, var_dir):
    smtp.delay = 0.2
    smtp.start()
    for n in range(20):
        mail_queue(to=f"member{n}@example.com", subject=f"Mail {n}", body="Body")
    env = process_env(var_dir, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port), EMAIL_USE_TLS="false")
    sender = start_manage("send_queued_mail", env=env)
    wait_for(lambda: len(smtp.messages) >= 5, 30, what="mail under way")
    sender.kill()
    sender.communicate(timeout=10)
    smtp.delay = 0.0
    rerun = start_manage("send_queued_mail", env=env)
    rerun.communicate(timeout=60)
    assert rerun.returncode == 0
    received = Counter(message_from_bytes(envelope.content)["Message-ID"] for envelope in smtp.messages)
    assert len(received) == 20, "none lost"
    # At most the one mail the SMTP server was taking when the sender died (it never heard the answer).
    assert sum(count - 1 for count in received.values()) <= 1, received
    assert not Email.objects.exclude(status=STATUS.sent).exists()
