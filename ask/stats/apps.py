from django.apps import AppConfig


class StatsConfig(AppConfig):
    """Daily figures of the site and the orders, computed by calc_stats, shown to staff as charts."""

    name = "ask.stats"
    label = "stats"
    verbose_name = "Statistics"
