"""Money as customers read it: amounts in ORDERS_CURRENCY, and the delivery fee every order adds."""
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


def delivery_fee() -> Decimal:
    try:
        fee = Decimal(settings.ORDERS_DELIVERY_FEE)
    except InvalidOperation:
        fee = Decimal("NaN")
    if not fee.is_finite() or fee < 0 or fee.as_tuple().exponent < -2:
        raise ImproperlyConfigured(f"ORDERS_DELIVERY_FEE must be an amount such as 2.50, not "
                                   f"{settings.ORDERS_DELIVERY_FEE!r}")
    return fee.quantize(Decimal("0.01"))


def money(amount: Decimal | int | str) -> str:
    """"€9.50", "$9.50", "9.50 CHF": the currency's sign where it has a common one, else its code."""
    text = f"{Decimal(amount):,.2f}"
    symbol = SYMBOLS.get(settings.ORDERS_CURRENCY)
    return f"{symbol}{text}" if symbol else f"{text} {settings.ORDERS_CURRENCY}"
