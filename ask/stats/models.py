"""One row per day (the site's time zone) of each kind of figure, upserted by calc_stats."""
from django.db import models


class SiteDay(models.Model):
    day = models.DateField(unique=True)
    new_users = models.PositiveIntegerField(default=0)  # joined that day
    activations = models.PositiveIntegerField(default=0)  # activated that day
    questions = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    votes = models.PositiveIntegerField(default=0)  # on questions and answers
    active_users = models.PositiveIntegerField(default=0)  # asked, answered or voted that day
    computed_at = models.DateTimeField()


class OrdersDay(models.Model):
    """Order figures of a day, for the whole site (restaurant empty) or one restaurant."""

    day = models.DateField()
    restaurant = models.ForeignKey("orders.Restaurant", null=True, blank=True, on_delete=models.CASCADE)
    placed = models.PositiveIntegerField(default=0)  # orders created that day
    delivered = models.PositiveIntegerField(default=0)  # orders delivered that day
    cancelled = models.PositiveIntegerField(default=0)  # orders cancelled that day
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)  # of the orders delivered that day
    avg_minutes = models.FloatField(null=True)  # from ordering to delivery, orders delivered that day
    p95_minutes = models.FloatField(null=True)
    late_share = models.FloatField(null=True)  # of the orders delivered that day, the share delivered late
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "restaurant"], name="stats_orders_day_restaurant"),
            models.UniqueConstraint(fields=["day"], condition=models.Q(restaurant=None), name="stats_orders_day_all"),
        ]
