from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
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
        if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
            deleted = Session.objects.filter(expire_date__lt=timezone.now()).delete()[0]
            job.count("deleted", deleted)
            return f"deleted {deleted} expired sessions"
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        return "cleared expired sessions"
