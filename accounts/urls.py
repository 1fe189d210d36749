from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views
from accounts.forms import LoginForm

urlpatterns = [
    path("signup/", views.sign_up, name="sign_up"),
    path("signup/done/", views.sign_up_done, name="sign_up_done"),
    path("activate/resend/", views.resend, name="resend"),
    path("activate/resend/done/", views.resend_done, name="resend_done"),
    path("activate/", views.activate_confirm, name="activate_confirm"),
    path("activate/<str:key>/", views.activate, name="activate"),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("", include("django.contrib.auth.urls")),
]

# At the site's root (ask.urls), where the page has always been: /settings/.
profile_patterns = [
    path("settings/", views.profile_settings, name="settings"),
    path("settings/email/", views.email_change, name="email_change"),
    path("settings/email/confirm/", views.email_change_confirm, name="email_change_confirm"),
    path("settings/email/confirm/<str:token>/", views.email_change_link, name="email_change_link"),
]
