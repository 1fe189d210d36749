"""What export_data and import_data move of food ordering: restaurants (without their webhook
tokens), dishes, and orders with their items (history, tickets and deliveries stay behind)."""
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Iterator

from accounts.data_specs import UserIds
from ask.core.bulk import as_text
from ask.dataio.exporting import chunks, created_since, field_rows
from ask.dataio.files import Row
from ask.dataio.specs import (
    BadValue,
    Spec,
    fits,
    read_bool,
    read_datetime,
    read_decimal,
    read_int,
    read_optional_datetime,
    read_required,
    read_text,
    read_time,
    register,
)
from ask.dataio.upsert import upsert
from ask.dataio.writer import Rejections, SpecWriter, Written, reject_missing, written_of
from orders.models import Dish, Order, OrderItem, Restaurant
from orders.services import menu_invalidate

RESTAURANT_COLUMNS = ["slug", "name", "integration", "opens_at", "closes_at"]
ORDER_COLUMNS = ["customer_id", "eta", "status", "total", "address", "delivery_provider", "created_at",
                 "delivered_at", "delayed_minutes"]
ITEM_FIELDS = {"restaurant", "dish", "quantity", "price"}


def read_items(raw: str) -> list:
    try:
        items = json.loads(raw)
    except ValueError:
        raise BadValue("is not a JSON list of items") from None
    if not isinstance(items, list) or not items or not all(
            isinstance(i, dict) and ITEM_FIELDS <= set(i) for i in items):
        raise BadValue('is not a non-empty JSON list of {"restaurant", "dish", "quantity", "price"}')
    for number, item in enumerate(items, start=1):
        quantity = item["quantity"]
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise BadValue(f"item {number}: quantity {quantity!r} is not a whole number of at least 1")
        read_decimal(str(item["price"]))
    return items


class RestaurantsWriter(SpecWriter):
    def write(self, rows: list[Row], prepared: dict) -> Written:
        cook = Restaurant._meta.get_field("sim_cook_seconds").default
        written = upsert(Restaurant, [*RESTAURANT_COLUMNS, "webhook_token_hash", "sim_cook_seconds"],
                         [(*(r.values[c] for c in RESTAURANT_COLUMNS), "", cook) for r in rows],
                         key=["slug"], update=["name", "integration", "opens_at", "closes_at"], returning=["slug"])
        menu_invalidate()
        return written_of(written)


class DishesWriter(SpecWriter):
    def refs(self, rows: list[Row]) -> Rejections:
        bad: Rejections = {}
        values = [r.values for r in rows]
        slugs = {v["restaurant"] for v in values}
        found = set(Restaurant.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        reject_missing(values, bad, "restaurant", found, "restaurant")
        return bad

    def write(self, rows: list[Row], prepared: dict) -> Written:
        values = [r.values for r in rows]
        restaurants = dict(Restaurant.objects.filter(slug__in={v["restaurant"] for v in values})
                           .values_list("slug", "pk"))
        written = upsert(Dish, ["restaurant_id", "name", "price", "available"],
                         [(restaurants[v["restaurant"]], v["name"], v["price"], v["available"]) for v in values],
                         key=["restaurant_id", "name"], update=["price", "available"],
                         returning=["restaurant_id", "name"])
        menu_invalidate()
        return written_of([((restaurant, name), inserted) for restaurant, name, inserted in written])


class OrdersWriter(SpecWriter):
    sequence_tables = ("orders_order",)

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.users = UserIds()
        self.dish_ids: dict[tuple[str, str], int] = {}  # (restaurant slug, dish name) -> dish id

    def refs(self, rows: list[Row]) -> Rejections:
        bad: Rejections = {}
        values = [r.values for r in rows]
        self.users.check(values, bad, "customer")
        names = {i["dish"] for v in values for i in v["items"]}
        self.dish_ids.update({(d.restaurant.slug, d.name): d.pk
                              for d in Dish.objects.select_related("restaurant").filter(name__in=names)})
        for index, value in enumerate(values):
            missing = [f"{i['restaurant']}/{i['dish']}" for i in value["items"]
                       if (i["restaurant"], i["dish"]) not in self.dish_ids]
            if index not in bad and missing:
                bad[index] = ("items", f"no dish {missing[0]}")
        return bad

    def write(self, rows: list[Row], prepared: dict) -> Written:
        values = [r.values for r in rows]
        written = upsert(Order, ["id", *ORDER_COLUMNS],
                         [(v["id"], self.users[v["customer"]], *(v[c] for c in ORDER_COLUMNS[1:])) for v in values],
                         key=["id"], update=ORDER_COLUMNS, returning=["id"])
        return written_of(written, self._items(values))

    def _items(self, values: list[dict]) -> set[int]:
        """Give each order of the batch exactly the items of its row (items have no key of their own);
        the orders whose items changed."""
        dishes, wanted, have = self.dish_ids, defaultdict(list), defaultdict(list)
        for v in values:
            wanted[v["id"]] = [(dishes[(i["restaurant"], i["dish"])], int(i["quantity"]), Decimal(str(i["price"])))
                               for i in v["items"]]
        for order, *item in (OrderItem.objects.filter(order_id__in=list(wanted)).order_by("order_id", "pk")
                             .values_list("order_id", "dish_id", "quantity", "price")):
            have[order].append(tuple(item))
        changed = {order for order, items in wanted.items() if have[order] != items}
        OrderItem.objects.filter(order_id__in=changed).delete()
        OrderItem.objects.bulk_create([OrderItem(order_id=o, dish_id=d, quantity=q, price=p)
                                       for o in sorted(changed) for d, q, p in wanted[o]])
        return changed


def order_rows(since: datetime | None) -> Iterator[list[str]]:
    fields = ["customer__email", *ORDER_COLUMNS[1:]]
    for chunk in chunks(created_since(Order.objects.all(), "created_at", since), fields):
        items = defaultdict(list)
        for item in (OrderItem.objects.filter(order_id__in=[r["pk"] for r in chunk]).order_by("pk")
                     .values("order_id", "dish__restaurant__slug", "dish__name", "quantity", "price")):
            items[item["order_id"]].append({"restaurant": item["dish__restaurant__slug"], "dish": item["dish__name"],
                                            "quantity": item["quantity"], "price": str(item["price"])})
        for r in chunk:
            yield [as_text(r["pk"]), *(as_text(r[f]) for f in fields), as_text(items[r["pk"]])]


register(
    Spec("restaurants", ("slug",),
         {"slug": fits(Restaurant, "slug"), "name": fits(Restaurant, "name"),
          "integration": fits(Restaurant, "integration"), "opens_at": read_time, "closes_at": read_time},
         rows=lambda since: field_rows(Restaurant.objects.all(), RESTAURANT_COLUMNS), writer=RestaurantsWriter),
    Spec("dishes", ("restaurant", "name"),
         {"restaurant": read_required, "name": fits(Dish, "name"), "price": fits(Dish, "price", read_decimal),
          "available": read_bool},
         rows=lambda since: field_rows(Dish.objects.all(), ["restaurant__slug", "name", "price", "available"]),
         writer=DishesWriter),
    Spec("orders", ("id",),
         {"id": fits(Order, "id", read_int), "customer": read_required, "eta": read_datetime,
          "status": fits(Order, "status"), "total": fits(Order, "total", read_decimal),
          "address": fits(Order, "address", read_text), "delivery_provider": fits(Order, "delivery_provider"),
          "created_at": read_datetime, "delivered_at": read_optional_datetime,
          "delayed_minutes": fits(Order, "delayed_minutes", read_int), "items": read_items},
         rows=order_rows, writer=OrdersWriter, since_field="created_at"),
)
