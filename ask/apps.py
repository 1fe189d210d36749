from django.apps import AppConfig


class AskConfig(AppConfig):
    """The Q&A app; the package also holds the project's settings, urls and shared machinery."""

    name = "ask"
    verbose_name = "Questions and answers"

    def ready(self) -> None:
        from ask import checks  # noqa: F401  (registers the system checks)
