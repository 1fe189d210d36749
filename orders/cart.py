"""The cart, kept in the session: {dish id: quantity}."""
from decimal import Decimal

from django.http import HttpRequest

from orders import clock
from orders.menus import closed_note
from orders.models import Dish

SESSION_KEY = "orders_cart"
MAX_QUANTITY = 50


class NotAddable(Exception):
    """A dish that cannot go into the cart now; the message says why."""


def cart_get(request: HttpRequest) -> dict[int, int]:
    return {int(k): v for k, v in request.session.get(SESSION_KEY, {}).items()}


def cart_count(request: HttpRequest) -> int:
    """Dishes in the cart, for the header; reads no session for a visitor who has none."""
    if request.session.session_key is None and SESSION_KEY not in request.session:
        return 0
    return sum(cart_get(request).values())


def cart_set(request: HttpRequest, dish_id: int, quantity: int) -> None:
    cart = {str(k): v for k, v in cart_get(request).items()}
    if quantity <= 0:
        cart.pop(str(dish_id), None)
    else:
        cart[str(dish_id)] = min(quantity, MAX_QUANTITY)
    request.session[SESSION_KEY] = cart


def cart_change(request: HttpRequest, dish_id: int, quantity: int, *, add: bool) -> str:
    """Add quantity of a dish (add) or set the quantity of one in the cart (0 takes it out, also a
    dish deleted since); returns what was done, in words. Raises NotAddable for a dish that does not
    exist, is sold out, or whose restaurant is closed now."""
    if not add and quantity <= 0:
        cart_set(request, dish_id, 0)
        return "Removed from your cart."
    if not add and dish_id not in cart_get(request):
        raise NotAddable("That dish is not in your cart; add it from the menu.")
    dish = Dish.objects.select_related("restaurant").filter(pk=dish_id).first()
    if dish is None:
        raise NotAddable("That dish is not on the menu.")
    if not dish.available:
        raise NotAddable(f"{dish.name} is sold out.")
    closed = closed_note(dish.restaurant, clock.now())
    if closed:
        raise NotAddable(f"{dish.restaurant.name} is closed now ({closed}).")
    if add:
        if quantity < 1:
            raise NotAddable("Choose how many: 1 or more.")
        before = cart_get(request).get(dish_id, 0)
        cart_set(request, dish_id, before + quantity)
        added = cart_get(request)[dish_id] - before
        if added < quantity:  # the cap: say what the cart holds, not what was asked
            return (f"Added {added} × {dish.name}: your cart holds {MAX_QUANTITY}, the most of one dish."
                    if added else f"Your cart already holds {MAX_QUANTITY} × {dish.name}, the most of one dish.")
        return f"Added {quantity} × {dish.name} to your cart."
    cart_set(request, dish_id, quantity)
    return f"{dish.name}: {min(quantity, MAX_QUANTITY)}."


def cart_clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def cart_prune(request: HttpRequest) -> None:
    """Take out dishes deleted since they were added (the header's count and checkout would keep
    counting and refusing them)."""
    cart = cart_get(request)
    if cart:
        gone = set(cart) - set(Dish.objects.filter(pk__in=list(cart)).values_list("pk", flat=True))
        for dish_id in gone:
            cart_set(request, dish_id, 0)


def cart_lines(cart: dict[int, int]) -> tuple[list[dict], Decimal]:
    dishes = Dish.objects.select_related("restaurant").in_bulk(list(cart))
    lines = [{"dish": dishes[pk], "quantity": qty, "subtotal": dishes[pk].price * qty}
             for pk, qty in sorted(cart.items()) if pk in dishes]
    return lines, sum((line["subtotal"] for line in lines), Decimal("0.00"))
