"""The menu fragment is cached; any change to a restaurant or dish (admin, fill_orders) drops it."""
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.models import Dish, Restaurant

MENU_FRAGMENT = "orders_menu"


@receiver([post_save, post_delete], sender=Dish)
@receiver([post_save, post_delete], sender=Restaurant)
def menu_changed(**kwargs) -> None:
    transaction.on_commit(lambda: cache.delete(make_template_fragment_key(MENU_FRAGMENT)))
