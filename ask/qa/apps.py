from django.apps import AppConfig


class QaConfig(AppConfig):
    """The Q&A app: questions, answers, tags, votes and the sidebar.

    Its label stays "ask" (the package was the app before it moved to ask/qa/): tables, migrations,
    content types, permissions and admin URLs are the same as before, so no migration is needed.
    """

    name = "ask.qa"
    label = "ask"
    verbose_name = "Questions and answers"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from ask.qa import data_specs, slots  # noqa: F401  (registers its import/export specs)
        from ask.qa.search import ensure_sqlite_index

        slots.register()  # a member's votes, flags and follows on the shared pages (ask.core.shells)
        # After every migrate: SQLite's search index and triggers (a table rebuild drops triggers).
        post_migrate.connect(ensure_sqlite_index, sender=self, dispatch_uid="ask.qa.search.sqlite")
