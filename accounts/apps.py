from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, sign-up with an e-mailed activation key, log-in and profiles."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import data_specs  # noqa: F401  (registers its import/export specs)
