from django.urls import path

from ask.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
