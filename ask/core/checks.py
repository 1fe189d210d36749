"""System checks for settings that would otherwise fail quietly in production."""
from django.conf import settings
from django.core.checks import Error, Warning, register

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register()
def cache_is_shared(app_configs, **kwargs):
    """Cron jobs precompute into the cache for web workers, so the cache must be cross-process."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        return [
            Error(
                f"CACHES['default'] uses {backend.rsplit('.', 1)[-1]}, which each process keeps to itself.",
                hint="Set MEMCACHED_SERVERS, or leave it unset for the file cache under var/.",
                id="ask.E001",
            )
        ]
    return []


@register(deploy=True)
def secret_key_shared(app_configs, **kwargs):
    """Several web hosts must share one SECRET_KEY; the generated var/ key is per host."""
    if settings.SECRET_KEY_FROM_FILE and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return [
            Warning(
                "SECRET_KEY is not set; each host generated its own under var/, so sessions and "
                "password-reset links break between hosts.",
                hint="Set SECRET_KEY in the environment file of every host.",
                id="ask.W001",
            )
        ]
    return []
