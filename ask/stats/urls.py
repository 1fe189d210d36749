from django.urls import path

from ask.stats import views

urlpatterns = [
    path("", views.stats_page, name="stats"),
    path("export.csv", views.stats_csv, name="stats_csv"),
]
