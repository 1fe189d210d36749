from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Food ordering: restaurants, dishes, orders and the cron-driven order processor."""

    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from ask.core import metrics
        from ask.core.shells import RequestSlot, register_slot
        from orders.cart import cart_count
        from orders import checks, data_specs  # noqa: F401  (register the system checks and import/export specs)
        from orders.metrics import orders_gauges

        metrics.register("orders", orders_gauges)
        # The header's cart count, on every page (a per-request slot: ask.core.shells).
        register_slot("cart_count", RequestSlot(
            lambda request: str(cart_count(request)) if hasattr(request, "session") else "0"))
