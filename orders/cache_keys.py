"""Every cache key of the orders app, built here and nowhere else."""

MENU_DATA = "orders:menu"  # every restaurant with its dishes, as plain data (orders.menus)


def cook_estimate_key(restaurant_id: int) -> str:
    """Seconds, an int: the restaurant's learned cooking time (orders.planning)."""
    return f"orders:cook:{restaurant_id}"
