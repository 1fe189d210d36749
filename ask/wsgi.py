"""WSGI entry point for gunicorn: `gunicorn ask.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ask.settings")
application = get_wsgi_application()
