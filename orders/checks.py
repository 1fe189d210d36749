"""System checks of the ordering settings: a bad amount or zone stops start-up, named, instead of a
500 at the first checkout."""
from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from orders.money import delivery_fee


@register()
def ordering_settings(app_configs, **kwargs):
    problems = []
    try:
        delivery_fee()
    except ImproperlyConfigured as bad:
        problems.append(Error(str(bad), hint="A plain amount in ORDERS_CURRENCY, e.g. ORDERS_DELIVERY_FEE=2.50",
                              id="orders.E001"))
    currency = settings.ORDERS_CURRENCY
    if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        problems.append(Error(f"ORDERS_CURRENCY must be an ISO 4217 code such as EUR, not {currency!r}",
                              id="orders.E002"))
    return problems
