from django.http import HttpRequest

from orders.cart import cart_count


def cart(request: HttpRequest) -> dict:
    """The header's cart count (0 for a visitor without a session: their pages may be shared)."""
    return {"cart_count": cart_count(request)}
