"""Every cache key of the orders app, built here and nowhere else."""

MENU_FRAGMENT = "orders_menu"  # {% cache %} fragment name of the menu (every restaurant's dishes)
