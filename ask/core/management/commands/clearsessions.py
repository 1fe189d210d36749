from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends import db
from django.utils import timezone

from ask.jobs.command import JobCommand


class Command(JobCommand):
    examples = (
        "-v0   # as cron runs it daily",
    )
    help = (
        "Delete expired sessions (replaces Django's clearsessions, so the daily run is locked and "
        "recorded like every other job)."
    )
    catch_up = "once"  # daily housekeeping
    expected_seconds = 600

    def run(self, job) -> str:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        if issubclass(store, db.SessionStore):  # Django's database sessions, or accounts.sessions
            deleted = store.get_model_class().objects.filter(expire_date__lt=timezone.now()).delete()[0]
            job.count("deleted", deleted)
            return f"deleted {deleted} expired sessions"
        store.clear_expired()
        return "cleared expired sessions"
