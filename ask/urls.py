from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from ask import views

urlpatterns = [
    path("", views.home, name="home"),
    path("hot/", views.hot, name="hot"),
    path("tag/<str:name>/", views.tag, name="tag"),
    path("q/<int:pk>/", views.question, name="question"),
    path("q/<int:pk>/answer/", views.answer, name="answer"),
    path("ask/", views.ask, name="ask"),
    re_path(r"^vote/(?P<kind>question|answer)/(?P<pk>[0-9]+)/$", views.vote, name="vote"),
    path("accept/<int:pk>/", views.accept, name="accept"),
    path("u/<int:pk>/", views.profile, name="profile"),
    path("settings/", views.user_settings, name="settings"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.suggest, name="suggest"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("orders/", include("orders.urls")),
    path("stats/", include("ask.stats.urls")),
    path("admin/", admin.site.urls),
    # Avatars. Served by Django so the embedded site needs nothing else; behind a proxy, let it
    # serve MEDIA_ROOT at /media/ instead.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
