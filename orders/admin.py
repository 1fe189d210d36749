from django.contrib import admin

from orders.models import Delivery, Dish, Order, OrderEvent, OrderItem, ProviderCall, Restaurant, Ticket
from orders.services import menu_invalidate


class DishInline(admin.TabularInline):
    model = Dish
    extra = 1


@admin.register(Restaurant)
class RestaurantAdmin(admin.ModelAdmin):
    list_display = ["name", "integration", "opens_at", "closes_at", "cook_minutes"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["staff"]
    inlines = [DishInline]
    exclude = ["webhook_token_hash"]  # set with `manage.py restaurant_token SLUG`

    # The menu is cached: every change made here (the restaurant, its dishes inline) drops it.
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        menu_invalidate()

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        menu_invalidate()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        menu_invalidate()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        menu_invalidate()


class ItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    readonly_fields = ["dish", "quantity", "price"]


class TicketInline(admin.TabularInline):
    model = Ticket
    extra = 0
    readonly_fields = ["restaurant", "status", "external_id", "idempotency_key", "updated_at"]


class EventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    readonly_fields = ["from_status", "to_status", "at", "reason"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    # No COUNT(*) of the whole table beside a filtered list: on millions of rows it alone may pass
    # the web's statement timeout (DB_WEB_STATEMENT_TIMEOUT_MS), and staff would only ever see "busy".
    show_full_result_count = False
    list_display = ["pk", "customer", "status", "eta", "delayed_minutes", "total"]
    list_filter = ["status", "delivery_provider"]
    # A customer's question names their order number or their e-mail; thousands of customers make a
    # dropdown of them useless (and a page of several MB), so the customer field searches as it types.
    search_fields = ["=id", "customer__email", "customer__display_name", "address"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer"]
    date_hierarchy = "eta"
    readonly_fields = ["status", "next_check_at", "delivered_at", "delayed_minutes", "created_at"]
    inlines = [ItemInline, TicketInline, EventInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    show_full_result_count = False  # as OrderAdmin
    list_display = ["order", "provider", "status", "external_id", "updated_at"]
    list_filter = ["provider", "status"]
    search_fields = ["=order__id", "external_id"]
    raw_id_fields = ["order"]


@admin.register(ProviderCall)
class ProviderCallAdmin(admin.ModelAdmin):
    show_full_result_count = False  # as OrderAdmin
    list_display = ["kind", "idempotency_key", "at", "pid"]
    list_filter = ["kind"]
