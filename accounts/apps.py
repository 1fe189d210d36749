from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, sign-up with an e-mailed activation key, log-in and profiles."""

    name = "accounts"
    verbose_name = "Accounts"
