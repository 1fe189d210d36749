"""Pages of food ordering (menu, cart, checkout, orders, staff) and the webhooks of outside systems."""
import hashlib
import json
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_GET, require_POST

from ask.core.params import whole_number
from ask.core.tokens import token_hash, token_matches
from orders import cart, clock, menus, progress, selectors
from orders.forms import CheckoutForm
from orders.money import delivery_fee
from orders.slots import delivery_slots
from orders.models import Delivery, Order, Restaurant, Ticket
from orders.services import OrderRefused, delivery_report, order_cancel, order_place, ticket_report
from orders.states import ACTIVE_ORDER_STATUSES, DeliveryStatus, IllegalTransition, TicketStatus

STAFF_ACTIONS = {status.value: status for status in (TicketStatus.COOKING, TicketStatus.COOKED, TicketStatus.REJECTED)}


@require_GET
def menu(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/menu.html", {"restaurants": menus.menu_now(clock.now()), "fee": delivery_fee()})


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    """Add a dish (add = dish id, qty = how many; from the menu, one form a dish) or set a line's
    quantity (set = dish id, qty; 0 or the remove button takes it out). JSON for the menu's script."""
    dish_id = whole_number(request.POST.get("add") or request.POST.get("set") or request.POST.get("remove"))
    quantity = 0 if request.POST.get("remove") else whole_number(request.POST.get("qty", "1"), signed=True)
    problem = None
    if dish_id is None:
        problem = "Choose a dish."
    elif quantity is None or quantity < 0:
        problem = "A quantity is a whole number, 0 or more."
    else:
        try:
            added = cart.cart_change(request, dish_id, quantity, add=bool(request.POST.get("add")))
        except cart.NotAddable as refused:
            problem = str(refused)
    if _wants_json(request):
        if problem:
            return JsonResponse({"error": problem}, status=400)
        return JsonResponse({"count": cart.cart_count(request), "message": added})
    if problem:
        messages.error(request, problem)
    elif request.POST.get("add"):
        messages.success(request, added)
    return redirect("orders:menu" if request.POST.get("add") else "orders:cart")


def _checkout_page(request: HttpRequest, lines: list[dict], items_total, form: CheckoutForm | None = None,
                   status: int = 200) -> HttpResponse:
    if form is None:
        form = CheckoutForm(slots=_slots(lines))
    fee = delivery_fee()
    return render(request, "orders/cart.html", {
        "lines": lines, "items_total": items_total, "fee": fee, "total": items_total + fee, "form": form,
        "no_slots": bool(lines) and not form.slots, "zone": timezone.get_current_timezone_name()}, status=status)


def _slots(lines: list[dict]) -> list:
    restaurants = sorted({line["dish"].restaurant for line in lines}, key=lambda r: r.pk)
    return delivery_slots(now=clock.now(), restaurants=restaurants, zone=timezone.get_current_timezone())


@require_GET
def cart_page(request: HttpRequest) -> HttpResponse:
    cart.cart_prune(request)
    return _checkout_page(request, *cart.cart_lines(cart.cart_get(request)))


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Place the order; a problem is shown at its field with everything typed kept (status 400).
    A GET (the address bar after a refused checkout, reloaded) goes to the cart, where the form is."""
    if request.method == "GET":
        return redirect("orders:cart")
    cart.cart_prune(request)
    lines, items_total = cart.cart_lines(cart.cart_get(request))
    if not lines:  # emptied in another tab
        messages.error(request, "Your cart is empty: add a dish first.")
        return redirect("orders:cart")
    form = CheckoutForm(request.POST, slots=_slots(lines))
    if form.is_valid():
        try:
            order = order_place(customer=request.user, cart=cart.cart_get(request), eta=form.cleaned_data["eta"],
                                address=form.cleaned_data["address"])
        except OrderRefused as refused:
            form.add_error(refused.field, str(refused))
        else:
            cart.cart_clear(request)
            messages.success(request, f"Order {order.pk} placed.")
            return redirect("orders:order", pk=order.pk)
    return _checkout_page(request, lines, items_total, form, status=400)  # the same lines and slots


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/my_orders.html", {"orders": selectors.orders_of(request.user)})


def _order_live(request: HttpRequest, order: Order) -> dict:
    """The changing part of an order's page, rendered once for the page or for its script."""
    context = {"order": order, "headline": progress.headline(order), "steps": progress.steps(order),
               "kitchens": progress.kitchens(order),
               "timeline": progress.timeline(order), "active_statuses": ACTIVE_ORDER_STATUSES}
    return _live(render_to_string("orders/_order_live.html", context, request),
                 final=order.status not in ACTIVE_ORDER_STATUSES)


CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def _live(html: str, *, final: bool) -> dict:
    """The version is of what the reader sees: a CSRF token is masked anew on every rendering."""
    seen = CSRF_INPUT.sub("", html)
    return {"html": html, "final": final, "version": hashlib.sha256(seen.encode()).hexdigest()[:16]}


@login_required
@require_GET
def order_page(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(selectors.order_of(request.user), pk=pk)
    return render(request, "orders/order.html", {"order": order, "live": _order_live(request, order),
                                                 "parts": progress.parts(order)})


@login_required
@require_GET
def order_live(request: HttpRequest, pk: int) -> JsonResponse:
    """What changes on an order's page, for its script: {"html", "version", "final"}
    (private, as every page for a member)."""
    return JsonResponse(_order_live(request, get_object_or_404(selectors.order_of(request.user), pk=pk)))


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk, customer=request.user)
    try:
        order_cancel(order=order, user=request.user)
        messages.success(request, "Your order was cancelled.")
    except OrderRefused as refused:
        messages.error(request, str(refused))
    return redirect("orders:order", pk=pk)


def _staffed(request: HttpRequest, slug: str) -> Restaurant:
    """The restaurant if the user works there; a 404 otherwise (it does not say whether it exists)."""
    return get_object_or_404(request.user.restaurants_staffed, slug=slug)


@login_required
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    restaurants = list(request.user.restaurants_staffed.order_by("name"))
    if len(restaurants) == 1:
        return redirect("orders:staff_tickets", slug=restaurants[0].slug)
    return render(request, "orders/staff_home.html", {"restaurants": restaurants})


@login_required
@require_GET
def staff_tickets(request: HttpRequest, slug: str) -> HttpResponse:
    restaurant = _staffed(request, slug)
    return render(request, "orders/staff_tickets.html", {"restaurant": restaurant,
                                                         "live": _kitchen_live(request, restaurant)})


def _kitchen_live(request: HttpRequest, restaurant: Restaurant) -> dict:
    return _live(render_to_string("orders/_kitchen_live.html", {"restaurant": restaurant,
                                                                "board": progress.kitchen_board(restaurant)},
                                  request), final=False)


@login_required
@require_GET
def staff_live(request: HttpRequest, slug: str) -> JsonResponse:
    """A kitchen's tickets, for its page's script: {"html", "version", "final": false}."""
    return JsonResponse(_kitchen_live(request, _staffed(request, slug)))


@login_required
@require_POST
def staff_ticket_update(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    restaurant = _staffed(request, slug)
    ticket = get_object_or_404(Ticket, pk=pk, restaurant=restaurant)
    status = STAFF_ACTIONS.get(request.POST.get("status", ""))
    if status is None:
        messages.error(request, "Unknown action.")
    else:
        try:
            ticket_report(ticket=ticket, status=status, reason=f"marked by {request.user.display_name}")
            messages.success(request, f"Order {ticket.order_id}: {status.label}.")
        except IllegalTransition:
            messages.error(request, f"Order {ticket.order_id} is {ticket.get_status_display()}; "
                                    f"it cannot be marked {status.label}.")
    return redirect("orders:staff_tickets", slug=slug)


def _json_body(request: HttpRequest) -> dict | None:
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("external_id", "status")):
        return None
    return body


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else ""


@csrf_exempt
@require_POST
def restaurant_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    """A pushing restaurant reports a ticket: {"external_id": "...", "status": "cooking|cooked|rejected"}."""
    restaurant = Restaurant.objects.filter(slug=slug).first()
    if restaurant is None or not token_matches(_bearer(request), restaurant.webhook_token_hash):
        return JsonResponse({"error": "bad token"}, status=403)
    body = _json_body(request)
    if body is None or body["status"] not in STAFF_ACTIONS:
        return JsonResponse({"error": 'expected JSON {"external_id": str, "status": cooking|cooked|rejected}'},
                            status=400)
    ticket = Ticket.objects.filter(restaurant=restaurant, external_id=body["external_id"]).first()
    if ticket is None:
        return JsonResponse({"error": "unknown external_id"}, status=404)
    try:
        ticket = ticket_report(ticket=ticket, status=STAFF_ACTIONS[body["status"]], reason="restaurant webhook")
    except IllegalTransition as illegal:
        return JsonResponse({"error": str(illegal)}, status=409)
    return JsonResponse({"external_id": ticket.external_id, "status": ticket.status})


COURIER_STATUSES = {s.value for s in DeliveryStatus if s != DeliveryStatus.REQUESTED}


@csrf_exempt
@require_POST
def courier_webhook(request: HttpRequest) -> JsonResponse:
    """The pushing courier reports a delivery:
    {"external_id": "...", "status": "assigned|picked_up|delivered|failed"}."""
    configured = settings.ORDERS_DELIVERY_WEBHOOK_TOKEN
    if not token_matches(_bearer(request), token_hash(configured) if configured else ""):
        return JsonResponse({"error": "bad token"}, status=403)
    body = _json_body(request)
    if body is None or body["status"] not in COURIER_STATUSES:
        return JsonResponse(
            {"error": 'expected JSON {"external_id": str, "status": assigned|picked_up|delivered|failed}'}, status=400)
    delivery = Delivery.objects.filter(provider=Order.DeliveryProvider.PUSHED, external_id=body["external_id"]).first()
    if delivery is None:
        return JsonResponse({"error": "unknown external_id"}, status=404)
    try:
        delivery = delivery_report(delivery=delivery, status=body["status"])
    except IllegalTransition as illegal:
        return JsonResponse({"error": str(illegal)}, status=409)
    return JsonResponse({"external_id": delivery.external_id, "status": delivery.status})


