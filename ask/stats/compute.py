"""calc_stats: daily figures computed with SQL aggregation over the days asked for only, so a run
costs the same however many days the site has. Days are the site's (TIME_ZONE)."""
import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote
from ask.stats.models import OrdersDay, SiteDay
from orders.models import Order, OrderEvent, OrderItem
from orders.states import OrderStatus

ALL = None  # the restaurant key of site-wide order figures


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _per_day(queryset, field: str, *keys: str, **aggregates) -> dict:
    """{(day, *keys): {name: value}} for rows of queryset whose `field` falls in the range."""
    rows = (queryset.annotate(d=TruncDate(field, tzinfo=timezone.get_current_timezone()))
            .values("d", *keys).annotate(**aggregates).order_by())
    return {(row["d"], *(row[k] for k in keys)): row for row in rows}


def _in_range(field: str, since: date, until: date) -> Q:
    return Q(**{f"{field}__gte": day_start(since), f"{field}__lt": day_start(until + timedelta(days=1))})


def site_days(since: date, until: date) -> dict[date, dict]:
    figures: dict[date, dict] = defaultdict(dict)
    for name, queryset, field in (
        ("new_users", User.objects, "date_joined"), ("activations", User.objects, "activated_at"),
        ("questions", Question.objects, "created_at"), ("answers", Answer.objects, "created_at"),
        ("question_votes", QuestionVote.objects, "created_at"), ("answer_votes", AnswerVote.objects, "created_at"),
    ):
        for (day,), row in _per_day(queryset.filter(_in_range(field, since, until)), field, n=Count("pk")).items():
            figures[day][name] = row["n"]
    active: dict[date, set] = defaultdict(set)
    for queryset, field, user in ((Question.objects, "created_at", "author_id"),
                                  (Answer.objects, "created_at", "author_id"),
                                  (QuestionVote.objects, "created_at", "user_id"),
                                  (AnswerVote.objects, "created_at", "user_id")):
        for (day, user_id) in _per_day(queryset.filter(_in_range(field, since, until)), field, user):
            active[day].add(user_id)
    for day, users in active.items():
        figures[day]["active_users"] = len(users)
    for day in figures:
        figures[day]["votes"] = figures[day].pop("question_votes", 0) + figures[day].pop("answer_votes", 0)
    return figures


def _p95(values: list[float]) -> float | None:
    """The 95th percentile, interpolated like PostgreSQL's percentile_cont."""
    if not values:
        return None
    values = sorted(values)
    rank = 0.95 * (len(values) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


def order_days(since: date, until: date) -> dict[tuple, dict]:
    """{(day, restaurant id or ALL): figures}."""
    figures: dict[tuple, dict] = defaultdict(dict)
    placed = Order.objects.filter(_in_range("created_at", since, until))
    for (day,), row in _per_day(placed, "created_at", n=Count("pk")).items():
        figures[(day, ALL)]["placed"] = row["n"]
    per_restaurant = _per_day(placed, "created_at", "items__dish__restaurant", n=Count("pk", distinct=True))
    for (day, restaurant), row in per_restaurant.items():
        figures[(day, restaurant)]["placed"] = row["n"]

    cancelled = OrderEvent.objects.filter(_in_range("at", since, until), to_status=OrderStatus.CANCELLED)
    for (day,), row in _per_day(cancelled, "at", n=Count("pk")).items():
        figures[(day, ALL)]["cancelled"] = row["n"]
    for (day, restaurant), row in _per_day(cancelled, "at", "order__items__dish__restaurant",
                                           n=Count("order", distinct=True)).items():
        figures[(day, restaurant)]["cancelled"] = row["n"]

    delivered = Order.objects.filter(_in_range("delivered_at", since, until), status=OrderStatus.DELIVERED)
    took = ExpressionWrapper(F("delivered_at") - F("created_at"), output_field=DurationField())
    for (day,), row in _per_day(delivered, "delivered_at", n=Count("pk"), revenue=Sum("total"),
                                late=Count("pk", filter=Q(delayed_minutes__gt=0))).items():
        figures[(day, ALL)].update(delivered=row["n"], revenue=row["revenue"], late_share=row["late"] / row["n"])
    items = OrderItem.objects.filter(order__in=delivered)
    for (day, restaurant), row in _per_day(items, "order__delivered_at", "dish__restaurant",
                                           n=Count("order", distinct=True),
                                           revenue=Sum(F("price") * F("quantity"))).items():
        figures[(day, restaurant)].update(delivered=row["n"], revenue=row["revenue"])
    for (day, restaurant), row in _per_day(delivered, "delivered_at", "items__dish__restaurant",
                                           late=Count("pk", distinct=True, filter=Q(delayed_minutes__gt=0))).items():
        figures[(day, restaurant)]["late_share"] = row["late"] / figures[(day, restaurant)]["delivered"]
    _durations(delivered, took, figures)
    return figures


def _durations(delivered, took, figures) -> None:
    """Average and 95th percentile of ordering-to-delivery minutes, per day and restaurant."""
    if connection.vendor == "postgresql":
        tz = timezone.get_current_timezone_name()
        sql, params = delivered.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (o.delivered_at AT TIME ZONE %s)::date AS d, r.restaurant_id,"
                " avg(EXTRACT(EPOCH FROM o.delivered_at - o.created_at)) / 60,"
                " percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM o.delivered_at - o.created_at)) / 60"
                " FROM orders_order o"
                " CROSS JOIN LATERAL (SELECT NULL::bigint AS restaurant_id UNION"
                "   SELECT DISTINCT d.restaurant_id FROM orders_orderitem i JOIN orders_dish d ON d.id = i.dish_id"
                "   WHERE i.order_id = o.id) r"
                f" WHERE o.id IN ({sql}) GROUP BY d, r.restaurant_id",
                [tz, *params])
            for day, restaurant, average, p95 in cursor.fetchall():
                figures[(day, restaurant)].update(avg_minutes=float(average), p95_minutes=float(p95))
        return
    minutes: dict[tuple, list] = defaultdict(list)  # SQLite: no percentile_cont, so per row
    seen_orders = set()
    rows = (delivered.annotate(d=TruncDate("delivered_at", tzinfo=timezone.get_current_timezone()), took=took)
            .values_list("d", "pk", "items__dish__restaurant", "took").distinct())
    for day, pk, restaurant, duration in rows:
        value = duration.total_seconds() / 60
        minutes[(day, restaurant)].append(value)
        if pk not in seen_orders:
            seen_orders.add(pk)
            minutes[(day, ALL)].append(value)
    for key, values in minutes.items():
        figures[key].update(avg_minutes=sum(values) / len(values), p95_minutes=_p95(values))


def stats_calculate(*, since: date, until: date, dry_run: bool = False) -> dict:
    """Compute every day from since to until (inclusive) and upsert their rows; a rerun gives the same rows."""
    now = timezone.now()
    site, orders = site_days(since, until), order_days(since, until)
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    site_rows = [SiteDay(day=day, computed_at=now, **{k: site.get(day, {}).get(k, 0) for k in
                 ("new_users", "activations", "questions", "answers", "votes", "active_users")}) for day in days]
    restaurant_keys = sorted({key[1] for key in orders if key[1] is not ALL})
    order_rows = []
    for day in days:
        for restaurant in [ALL, *restaurant_keys]:
            row = orders.get((day, restaurant), {})
            if restaurant is not ALL and not row:
                continue
            order_rows.append(OrdersDay(
                day=day, restaurant_id=restaurant, computed_at=now, placed=row.get("placed", 0),
                delivered=row.get("delivered", 0), cancelled=row.get("cancelled", 0),
                revenue=row.get("revenue") or Decimal("0"), avg_minutes=row.get("avg_minutes"),
                p95_minutes=row.get("p95_minutes"), late_share=row.get("late_share")))
    if not dry_run:
        with transaction.atomic():
            SiteDay.objects.filter(day__in=days).delete()
            OrdersDay.objects.filter(day__in=days).delete()
            SiteDay.objects.bulk_create(site_rows)
            OrdersDay.objects.bulk_create(order_rows)
    return {"days": len(days), "site rows": len(site_rows), "order rows": len(order_rows)}
