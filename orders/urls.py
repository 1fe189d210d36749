from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.menu, name="menu"),
    path("cart/", views.cart_page, name="cart"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("checkout/", views.checkout, name="checkout"),
    path("mine/", views.my_orders, name="mine"),
    path("<int:pk>/", views.order_page, name="order"),
    path("<int:pk>/live/", views.order_live, name="order_live"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("staff/", views.staff_home, name="staff"),
    path("staff/<slug:slug>/", views.staff_tickets, name="staff_tickets"),
    path("staff/<slug:slug>/live/", views.staff_live, name="staff_live"),
    path("staff/<slug:slug>/tickets/<int:pk>/", views.staff_ticket_update, name="staff_ticket_update"),
    path("hooks/restaurants/<slug:slug>/", views.restaurant_webhook, name="restaurant_webhook"),
    path("hooks/courier/", views.courier_webhook, name="courier_webhook"),
]
