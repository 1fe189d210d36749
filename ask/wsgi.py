"""WSGI entry point for gunicorn: `gunicorn ask.wsgi`. Marks the process as a web process before the
settings load, so its database connections get the web's lock and statement timeouts (settings)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ask.settings")
os.environ["ASK_WEB_PROCESS"] = "1"
application = get_wsgi_application()
