from datetime import time
from decimal import Decimal

import factory

from ask.core.tokens import token_hash
from orders.models import Dish, Restaurant

WEBHOOK_TOKEN = "kitchen-secret-token"


class RestaurantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Restaurant

    name = factory.Sequence(lambda n: f"Restaurant {n}")
    slug = factory.Sequence(lambda n: f"restaurant-{n}")
    integration = Restaurant.Integration.POLLED
    webhook_token_hash = token_hash(WEBHOOK_TOKEN)
    opens_at = time(0, 0)
    closes_at = time(23, 59, 59)
    cook_minutes = 10
    sim_cook_seconds = 600  # as estimated: the planning tests change one or the other


class DishFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dish

    restaurant = factory.SubFactory(RestaurantFactory)
    name = factory.Sequence(lambda n: f"Dish {n}")
    price = Decimal("9.50")
