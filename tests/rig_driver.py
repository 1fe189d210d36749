"""The rig's customers and mail, run as `manage.py shell --no-imports -c "from tests.rig_driver import
main; main()"` with the rig's environment: an order due for cooking every 0.5 s, from a kitchen the
jobs poll, and a queued mail every second, until SIGTERM. A database that goes away (a restart) only
pauses it: it says so on stderr and goes on, so the rows in the database are what it made."""
import signal
import sys
import time
from datetime import timedelta
from decimal import Decimal

from django.db import OperationalError, close_old_connections, connection
from django.utils import timezone

ORDER_EVERY, MAIL_EVERY = 0.5, 1.0


def _kitchens():
    from django.contrib.auth import get_user_model

    from orders.models import Dish, Restaurant
    restaurant, _ = Restaurant.objects.get_or_create(
        slug="rig-kitchen", defaults=dict(name="Rig kitchen", integration=Restaurant.Integration.POLLED,
                                          opens_at="00:00", closes_at="23:59", cook_minutes=0,
                                          sim_cook_seconds=8))
    dish, _ = Dish.objects.get_or_create(restaurant=restaurant, name="Soup", defaults=dict(price=Decimal("6.50")))
    customer, _ = get_user_model().objects.get_or_create(email="customer@rig.test",
                                                         defaults=dict(display_name="rig customer"))
    return customer, dish


def _order(customer, dish) -> None:
    from django.db import transaction

    from orders.models import Order, OrderItem
    now = timezone.now()
    with transaction.atomic():
        # Due at once: the rig's courier takes 5 s to the door and plans nothing in hand (tests/rig.py).
        order = Order.objects.create(customer=customer, eta=now + timedelta(seconds=5), total=dish.price,
                                     address="1 Rig Street", created_at=now, next_check_at=now)
        OrderItem.objects.create(order=order, dish=dish, quantity=1, price=dish.price)


def _mail(number: int) -> None:
    from post_office import mail
    mail.send(["member@rig.test"], "ask <noreply@rig.test>", subject=f"rig mail {number}", message="Hello")


def main() -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    customer = dish = None
    mails, next_order, next_mail = 0, 0.0, 0.0
    while not stop:
        try:
            if dish is None:
                customer, dish = _kitchens()
            now = time.monotonic()
            if now >= next_order:
                _order(customer, dish)
                next_order = now + ORDER_EVERY
            if now >= next_mail:
                _mail(mails + 1)
                mails, next_mail = mails + 1, now + MAIL_EVERY
        except OperationalError as error:  # the database restarted or out of reach: wait, then again
            sys.stderr.write(f"rig driver: {str(error).strip().splitlines()[0]}\n")
            connection.close()
            time.sleep(0.5)
        close_old_connections()
        time.sleep(0.05)
