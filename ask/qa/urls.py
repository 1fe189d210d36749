from django.urls import path, re_path

from ask.qa import digest_views, editing_views, moderation_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("hot/", views.hot, name="hot"),
    path("tag/<str:name>/", views.tag, name="tag"),
    path("q/<int:pk>/", views.question, name="question"),
    path("q/<int:pk>/answer/", views.answer, name="answer"),
    path("q/<int:pk>/edit/", editing_views.question_edit, name="question_edit"),
    path("q/<int:pk>/delete/", editing_views.question_delete, name="question_delete"),
    path("q/<int:pk>/history/", editing_views.question_history, name="question_history"),
    path("a/<int:pk>/edit/", editing_views.answer_edit, name="answer_edit"),
    path("a/<int:pk>/delete/", editing_views.answer_delete, name="answer_delete"),
    path("a/<int:pk>/history/", editing_views.answer_history, name="answer_history"),
    path("ask/", views.ask, name="ask"),
    re_path(r"^vote/(?P<kind>question|answer)/(?P<pk>[0-9]+)/$", views.vote, name="vote"),
    path("accept/<int:pk>/", views.accept, name="accept"),
    re_path(r"^flag/(?P<kind>question|answer)/(?P<pk>[0-9]+)/$", moderation_views.flag, name="flag"),
    path("moderation/", moderation_views.queue, name="moderation"),
    re_path(r"^moderation/(?P<kind>question|answer)/(?P<pk>[0-9]+)/(?P<action>hide|restore|dismiss)/$",
            moderation_views.act, name="moderate"),
    path("moderation/member/<int:pk>/suspend/", moderation_views.suspend, name="suspend"),
    path("u/<int:pk>/", views.profile, name="profile"),
    path("tag/<str:name>/follow/", digest_views.tag_follow, name="tag_follow"),
    path("q/<int:pk>/follow/", digest_views.question_follow, name="question_follow"),
    path("digest/", digest_views.digest_settings, name="digest_settings"),
    path("digest/unsubscribe/<str:token>/", digest_views.digest_unsubscribe, name="digest_unsubscribe"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.suggest, name="suggest"),
    path("preview/", views.preview, name="preview"),
    path("tags/suggest/", views.tag_suggest, name="tag_suggest"),
]
