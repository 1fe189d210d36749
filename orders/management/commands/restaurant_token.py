import hashlib
import secrets

from django.core.management.base import BaseCommand, CommandError

from orders.models import Restaurant


class Command(BaseCommand):
    help = (
        "Give a restaurant a new webhook token and print it once (only its SHA-256 is stored). The "
        "restaurant's system sends it as 'Authorization: Bearer TOKEN'; the old token stops working."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="The restaurant's slug (see the admin).")

    def handle(self, *args, **options) -> None:
        restaurant = Restaurant.objects.filter(slug=options["slug"]).first()
        if restaurant is None:
            raise CommandError(f"No restaurant with the slug {options['slug']!r}.")
        token = secrets.token_urlsafe(32)
        restaurant.webhook_token_hash = hashlib.sha256(token.encode()).hexdigest()
        restaurant.save(update_fields=["webhook_token_hash"])
        self.stdout.write(token)
