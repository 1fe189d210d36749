from django.urls import path, re_path

from ask.qa import views

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
    path("search/", views.search, name="search"),
    path("search/suggest/", views.suggest, name="suggest"),
]
