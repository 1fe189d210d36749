"""Food ordering: restaurants and dishes, orders with their items, one ticket per restaurant, the
delivery, and the history of every status change. Money is Decimal throughout."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from orders.states import ACTIVE_ORDER_STATUSES, DeliveryStatus, OrderStatus, TicketStatus


class Restaurant(models.Model):
    class Integration(models.TextChoices):
        POLLED = "polled"  # its kitchen system is asked for ticket statuses (sync_restaurants)
        PUSHED = "pushed"  # it tells us: its system calls our webhook, or its staff use our pages

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    integration = models.CharField(max_length=10, choices=Integration.choices)
    # SHA-256 of the token its webhook calls carry (Authorization: Bearer TOKEN); never the token.
    webhook_token_hash = models.CharField(max_length=64, blank=True)
    opens_at = models.TimeField()  # deliveries are accepted for ETAs between these, site time zone
    closes_at = models.TimeField()
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="restaurants_staffed", blank=True)
    # Its own estimate of a ticket's cooking time, used until enough of its tickets were timed
    # (orders.planning.cook_estimates learns from the recent ones).
    cook_minutes = models.PositiveSmallIntegerField(default=15, db_default=15)
    # The simulated kitchen's true timing (see orders.providers), which the estimate may not know.
    sim_cook_seconds = models.PositiveIntegerField(default=900)

    def __str__(self) -> str:
        return self.name


class Dish(models.Model):
    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="dishes")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True, default="", db_default="")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    available = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "dishes"
        ordering = ["restaurant", "name"]
        # A dish's natural key (import_data, order items in exports): its name within the restaurant.
        constraints = [models.UniqueConstraint(fields=["restaurant", "name"], name="orders_dish_name_per_restaurant")]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    class DeliveryProvider(models.TextChoices):
        POLLED = "polled"  # the processor asks the provider how the delivery goes
        PUSHED = "pushed"  # the provider calls our webhook

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    eta = models.DateTimeField("delivery time")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.NOT_STARTED)
    total = models.DecimalField(max_digits=10, decimal_places=2)  # the items and the delivery fee
    delivery_fee = models.DecimalField(max_digits=8, decimal_places=2, default=0, db_default=0)
    address = models.CharField(max_length=200)
    delivery_provider = models.CharField(max_length=10, choices=DeliveryProvider.choices,
                                         default=DeliveryProvider.POLLED)
    created_at = models.DateTimeField()
    # When the processor should look at it next; empty once it is final. The processor's queue.
    next_check_at = models.DateTimeField(null=True, blank=True)
    # Set by what makes a state-changing step due (a new order, a kitchen's or courier's report), so the
    # processor takes it before routine re-checks, however many of those are overdue; cleared by its step.
    urgent = models.BooleanField(default=False, db_default=False)
    delayed_minutes = models.PositiveIntegerField(default=0)  # how late it is (or was, once delivered)
    # The plan (orders.planning), worked backward from the eta when cooking is first due: every part
    # cooked and the driver at the door by pickup_at; the courier asked at courier_at.
    pickup_at = models.DateTimeField(null=True, blank=True)
    courier_at = models.DateTimeField(null=True, blank=True)
    # Set once the order cannot make its time (late_at: when the customer was told): the new estimate.
    expected_at = models.DateTimeField(null=True, blank=True)
    late_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_check_at"], name="orders_order_queue",
                         condition=Q(status__in=sorted(ACTIVE_ORDER_STATUSES))),
            models.Index(fields=["next_check_at"], name="orders_order_urgent",
                         condition=Q(status__in=sorted(ACTIVE_ORDER_STATUSES), urgent=True)),
            models.Index(fields=["customer", "-created_at"], name="orders_order_customer"),
        ]

    def __str__(self) -> str:
        return f"order {self.pk}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    dish = models.ForeignKey(Dish, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=8, decimal_places=2)  # the dish's price when ordered

    @property
    def subtotal(self):
        return self.price * self.quantity


class Ticket(models.Model):
    """The part of an order one restaurant cooks."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="tickets")
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.NOT_STARTED)
    # Sent with the request, so a retried request (a processor killed mid-call) creates nothing twice.
    idempotency_key = models.CharField(max_length=80, unique=True)
    external_id = models.CharField(max_length=80, null=True, blank=True)  # set once sent to the kitchen
    updated_at = models.DateTimeField()
    start_at = models.DateTimeField(null=True, blank=True)  # planned: when the kitchen is to start
    sent_at = models.DateTimeField(null=True, blank=True)
    cooked_at = models.DateTimeField(null=True, blank=True)  # with sent_at: how long it took (estimates)

    class Meta:
        indexes = [models.Index(fields=["restaurant", "-cooked_at"], name="orders_ticket_cooked",
                                condition=Q(cooked_at__isnull=False))]
        constraints = [
            models.UniqueConstraint(fields=["order", "restaurant"], name="orders_one_ticket_per_restaurant"),
            models.UniqueConstraint(fields=["restaurant", "external_id"], name="orders_ticket_external_id"),
        ]


class Delivery(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="delivery")
    provider = models.CharField(max_length=10, choices=Order.DeliveryProvider.choices)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.REQUESTED)
    idempotency_key = models.CharField(max_length=80, unique=True)
    external_id = models.CharField(max_length=80, null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["provider", "external_id"], name="orders_delivery_external_id")]


class OrderEvent(models.Model):
    """Every status change of an order: the customer's timeline and the statistics' source."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["to_status", "at"], name="orders_event_status_at")]


# --- The simulated external systems -----------------------------------------------------------
# Stand-ins for a restaurant's kitchen system and a delivery company's API, kept in tables of their
# own so several processor processes see one "outside world". A real integration replaces them.

class SimKitchenTicket(models.Model):
    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=80, unique=True)
    external_id = models.CharField(max_length=80, unique=True)
    received_at = models.DateTimeField()
    rejected = models.BooleanField(default=False)


class SimDeliveryJob(models.Model):
    idempotency_key = models.CharField(max_length=80, unique=True)
    external_id = models.CharField(max_length=80, unique=True)
    received_at = models.DateTimeField()
    fails = models.BooleanField(default=False)
    pickup_after = models.DateTimeField(null=True)  # the pickup time asked for (none: at once)
    ready_at = models.DateTimeField(null=True)  # told the food is ready; a driver there waits for it


class ProviderCall(models.Model):
    """Every call made to an external system (tests count duplicates; admins read it when debugging)."""

    kind = models.CharField(max_length=30)  # "send_ticket", "request_delivery"
    idempotency_key = models.CharField(max_length=80, db_index=True)
    at = models.DateTimeField()
    pid = models.PositiveIntegerField()
