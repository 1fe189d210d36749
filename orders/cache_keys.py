"""Every cache key of the orders app, built here and nowhere else."""

MENU_FRAGMENT = "orders_menu"  # {% cache %} fragment name of the menu (every restaurant's dishes)


def cook_estimate_key(restaurant_id: int) -> str:
    """Seconds, an int: the restaurant's learned cooking time (orders.planning)."""
    return f"orders:cook:{restaurant_id}"
