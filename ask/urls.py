"""The site's URLs: each part of the site brings its own, included here."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from accounts.urls import profile_patterns

urlpatterns = [
    path("", include("ask.qa.urls")),
    path("", include("ask.core.urls")),
    path("", include(profile_patterns)),
    path("accounts/", include("accounts.urls")),
    path("orders/", include("orders.urls")),
    path("stats/", include("ask.stats.urls")),
    path("admin/", admin.site.urls),
    # Avatars. Served by Django so the embedded site needs nothing else; behind a proxy, let it
    # serve MEDIA_ROOT at /media/ instead.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
