"""post_office's own cleanup_mail, taken out of reach: it deletes by age whatever the status, so
`cleanup_mail --days 0` deleted mail still queued, never sent. prune_mail does the job safely."""
from django.core.management.base import CommandError

from ask.jobs.command import AdminCommand


class Command(AdminCommand):
    examples = (
        "--days 0   # refused, deleting nothing: run prune_mail --days 0 --dry-run instead",
    )
    help = ("Refuses: django-post-office's cleanup_mail deletes mail still waiting to be sent. Use prune_mail "
            "(--days N, --dry-run), which deletes only sent and given-up mail.")

    def add_arguments(self, parser) -> None:
        # Whatever post_office's options were, the answer is the same.
        parser.add_argument("ignored", nargs="*", help="Ignored.")
        parser.add_argument("-d", "--days", help="Ignored.")
        parser.add_argument("-da", "--delete-attachments", action="store_true", help="Ignored.")
        parser.add_argument("-b", "--batch-size", help="Ignored.")

    def handle(self, *args, **options) -> None:
        raise CommandError("cleanup_mail (django-post-office's) is disabled: it deletes mail still waiting to be "
                           "sent. Use manage.py prune_mail --days N (--dry-run first): it keeps queued mail.",
                           returncode=2)
