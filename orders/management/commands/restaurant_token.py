from django.core.management.base import CommandError

from ask.jobs.command import AdminCommand
from orders.models import Restaurant
from orders.services import restaurant_token_issue


class Command(AdminCommand):
    examples = (
        "pizza-roma   # prints the new token once",
    )
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
        self.stdout.write(restaurant_token_issue(restaurant=restaurant))
