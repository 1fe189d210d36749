"""The cart, kept in the session: {dish id: quantity}."""
from decimal import Decimal

from django.http import HttpRequest

from orders.models import Dish

SESSION_KEY = "orders_cart"
MAX_QUANTITY = 50


def cart_get(request: HttpRequest) -> dict[int, int]:
    return {int(k): v for k, v in request.session.get(SESSION_KEY, {}).items()}


def cart_set(request: HttpRequest, dish_id: int, quantity: int) -> None:
    cart = {str(k): v for k, v in cart_get(request).items()}
    if quantity <= 0:
        cart.pop(str(dish_id), None)
    else:
        cart[str(dish_id)] = min(quantity, MAX_QUANTITY)
    request.session[SESSION_KEY] = cart


def cart_clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def cart_lines(cart: dict[int, int]) -> tuple[list[dict], Decimal]:
    dishes = Dish.objects.select_related("restaurant").in_bulk(list(cart))
    lines = [{"dish": dishes[pk], "quantity": qty, "subtotal": dishes[pk].price * qty}
             for pk, qty in sorted(cart.items()) if pk in dishes]
    return lines, sum((line["subtotal"] for line in lines), Decimal("0.00"))
