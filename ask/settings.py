"""Settings of the ask site: every value comes from the environment, with a commented default.

With nothing configured the site runs embedded: SQLite, a file cache and e-mail written to files, all
under var/. README.md ("Configuration") lists every variable.
"""
import socket
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants

from ask.env import env_bool, env_choice, env_int, env_list, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the site writes at run time (SQLite, file cache, mail, backups, locks) lives here.
VAR_DIR = Path(env_str("ASK_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)  # made readable by the site's user only

# Names this installation (cache keys, job locks, crontab comment): sites sharing servers stay apart.
SITE_NAME = env_str("ASK_SITE_NAME", "ask")
HOST_NAME = env_str("ASK_HOSTNAME") or socket.gethostname()  # in job records: "already ran for 10:03 on web1"

DEBUG = env_bool("DEBUG", False)  # off by default: the embedded site behaves like production.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")


SECRET_KEY = secret_key(VAR_DIR)
SECRET_KEY_FROM_FILE = not env_str("SECRET_KEY")  # checked by ask.core.checks on multi-host set-ups

INSTALLED_APPS = [
    # The machinery and the frameworks first: core's clearsessions and send_queued_mail jobs replace
    # the commands of the same names of django.contrib.sessions and post_office, listed later.
    "ask.core.apps.CoreConfig",
    "ask.jobs.apps.JobsConfig",
    "ask.dataio.apps.DataioConfig",
    # The domains (registering their import/export specs in this order), then statistics over them.
    "accounts.apps.AccountsConfig",
    "ask.qa.apps.QaConfig",
    "orders.apps.OrdersConfig",
    "ask.stats.apps.StatsConfig",
    "ask.demo.apps.DemoConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_crontab",
    "post_office",  # after ask.core: its send_queued_mail job replaces post_office's command of that name
    "django_ratelimit",
    "axes",
    "csp",
    "django_prometheus",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # /metrics' request figures (with After, last)
    "django.middleware.security.SecurityMiddleware",
    "ask.core.hostile_input.RefuseNulMiddleware",
    "ask.core.errors.StyledMethodNotAllowedMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.sessions.AuthenticationMiddleware",  # Django's; the user read along with the session
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ask.core.busy.DatabaseBusyMiddleware",  # a lock or statement timeout: 503 "try again", not a 500
    "accounts.timezones.MemberTimeZoneMiddleware",  # a member's times in their own zone
    "csp.middleware.CSPMiddleware",
    "ask.core.headers.PrivatePagesMiddleware",
    "axes.middleware.AxesMiddleware", "django_prometheus.middleware.PrometheusAfterMiddleware",  # axes: lock-out page
]

ROOT_URLCONF = "ask.urls"
CSRF_FAILURE_VIEW = "ask.core.errors.csrf_failure"
WSGI_APPLICATION = "ask.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# DATABASE_URL switches to PostgreSQL (postgres://user:pass@host:5432/name). Persistent connections
# matter most for throughput (130 req/s at CONN_MAX_AGE=0 against 1,370 at 60 on these machines).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ask.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several writers (web workers, jobs): WAL lets readers go on beside a writer; IMMEDIATE transactions
    # queue (timeout) for the write lock instead of failing "database is locked" when a read writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A query stuck behind a lock must not hold a web worker forever; jobs override per session.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
    # A network cut ends a connection in seconds (an error, a lost lock noticed), not after the
    # kernel's retransmissions for a quarter of an hour: keepalives on idle ones, 10 s for unanswered data.
    DATABASES["default"]["OPTIONS"].update(keepalives=1, keepalives_idle=5, keepalives_interval=2,
                                           keepalives_count=2, tcp_user_timeout=10000)
    # DATABASE_URL through pgbouncer in transaction mode: no cursor may outlive its transaction.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DATABASE_TRANSACTION_POOLER", False)
    # Web requests never wait long on the database: a statement waiting DB_WEB_LOCK_TIMEOUT_MS for a
    # lock, or running DB_WEB_STATEMENT_TIMEOUT_MS, is cancelled and answered 503 "try again"
    # (ask.core.busy). Web processes only (ask/wsgi.py marks them): jobs have time limits of their own.
    # Through a transaction pooler the startup option cannot pass: set them on the web's role instead.
    if env_bool("ASK_WEB_PROCESS", False) and not env_bool("DATABASE_TRANSACTION_POOLER", False):
        _options = DATABASES["default"]["OPTIONS"]
        _options["options"] = " ".join(filter(None, [
            _options.get("options"), f"-c lock_timeout={env_int('DB_WEB_LOCK_TIMEOUT_MS', 2000)}",
            f"-c statement_timeout={env_int('DB_WEB_STATEMENT_TIMEOUT_MS', 10000)}"]))
_ENGINE = DATABASES["default"]["ENGINE"]  # django-prometheus' wrapper of it: queries counted for /metrics
DATABASES["default"]["ENGINE"] = _ENGINE.replace("django.db.", "django_prometheus.db.")
# The jobs' advisory locks need a real session, not a transaction pooler's (README "Jobs").
JOBS_LOCK_DATABASE_URL = env_str("JOBS_LOCK_DATABASE_URL") or DATABASE_URL
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------------
# MEMCACHED_SERVERS ("host:port,...") switches to a Memcached pool. Short timeouts and ignore_exc make an
# outage a miss (slower, never a 500); a failed server is left alone for CACHE_DEAD_SECONDS.
MEMCACHED_SERVERS = env_list("MEMCACHED_SERVERS", "")
# django-ratelimit knows cache backends by class path only; ours is PyMemcacheCache (atomic incr).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if MEMCACHED_SERVERS:
    CACHES = {
        "default": {
            "BACKEND": "ask.core.cache_backend.PersistentPyMemcacheCache",
            "LOCATION": MEMCACHED_SERVERS,
            "KEY_PREFIX": SITE_NAME,
            "TIMEOUT": 300,
            "OPTIONS": {
                "use_pooling": True,
                "max_pool_size": env_int("CACHE_POOL_SIZE", 16),
                "connect_timeout": env_int("CACHE_TIMEOUT_MS", 200) / 1000,
                "timeout": env_int("CACHE_TIMEOUT_MS", 200) / 1000,
                "ignore_exc": True,
                "retry_attempts": 1,
                "dead_timeout": env_int("CACHE_DEAD_SECONDS", 30),
                "no_delay": True,
            },
        }
    }
else:
    # File cache, not local memory: cron jobs (other processes) write what web workers read.
    CACHES = {
        "default": {
            "BACKEND": "ask.core.cache_backend.SignedFileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": SITE_NAME,
            "TIMEOUT": 300,
        }
    }
    # django-ratelimit wants atomic increments; on one embedded machine an approximate count will do.
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# How long a web process reuses a page it fetched from the page cache (seconds; 0 turns it off).
ASK_PAGE_LOCAL_SECONDS = float(env_str("ASK_PAGE_LOCAL_SECONDS", "1"))

# Database sessions: one deleted at log-out while Memcached is down must not come back from the cache.
SESSION_ENGINE = "accounts.sessions"  # Django's database sessions, read with their member in one SELECT

# --- Users ----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- E-mail ---------------------------------------------------------------------------------------
# Every mail goes into post_office's outbox table in the transaction of the change that caused it; the
# send_queued_mail job delivers it: SMTP when EMAIL_HOST is set, otherwise a file under var/mail.
EMAIL_BACKEND = "post_office.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    DELIVERY_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
else:
    DELIVERY_EMAIL_BACKEND = "ask.core.mail_files.PrivateFileEmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ask <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAIL_MAX_TRIES = env_int("MAIL_MAX_TRIES", 8)  # deliveries tried before a mail is given up (failed)
MAIL_RETRY_BASE_SECONDS = env_int("MAIL_RETRY_BASE_SECONDS", 60)  # 1, 2, 4, 8 ... minutes between tries
MAIL_RETENTION_DAYS = env_int("MAIL_RETENTION_DAYS", 30)  # sent and failed mail kept this long
POST_OFFICE = {
    # one_time_link: the same delivery, for mail whose body ask.core.outbox redacts once it is sent
    "BACKENDS": {"default": DELIVERY_EMAIL_BACKEND, "one_time_link": DELIVERY_EMAIL_BACKEND},
    "DEFAULT_PRIORITY": "medium",  # queued, never sent inside the request ("now" would)
    "MAX_RETRIES": MAIL_MAX_TRIES - 1,
    "RETRY_INTERVAL": timedelta(seconds=MAIL_RETRY_BASE_SECONDS),  # ask.core.outbox doubles it per try
    "BATCH_SIZE": env_int("MAIL_BATCH_SIZE", 100),  # mails per pass of send_queued_mail
    "THREADS_PER_PROCESS": 4,
    "LOG_LEVEL": 1,  # keep a log row for every failure, none for successes
    "MESSAGE_ID_ENABLED": True,
}

# --- Accounts -------------------------------------------------------------------------------------
ACCOUNT_ACTIVATION_DAYS = env_int("ACCOUNT_ACTIVATION_DAYS", 7)  # an activation key is valid this long
ACCOUNTS_CLEANUP_GRACE_DAYS = env_int("ACCOUNTS_CLEANUP_GRACE_DAYS", 7)  # after expiry, before deletion
SITE_AUTH_BACKEND = "accounts.backends.EmailOrDisplayNameBackend"
# django-axes first: it refuses a locked-out account or client before any password is hashed.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", SITE_AUTH_BACKEND]
# Log-in throttling (django-axes, counted in the database, so every host sees every try): README "Security".
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.throttle.account_of_attempt"
AXES_CLIENT_IP_CALLABLE = "ask.core.clients.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # failed attempts are what throttling needs; no table of every log-in
AXES_VERBOSE = False
# /healthz: details for staff and `Authorization: Bearer HEALTHZ_TOKEN`; checks rerun every N seconds.
# /metrics (Prometheus): only with `Authorization: Bearer METRICS_TOKEN`; unset, it answers 404.
HEALTHZ_TOKEN, METRICS_TOKEN = env_str("HEALTHZ_TOKEN"), env_str("METRICS_TOKEN")
HEALTHZ_CACHE_SECONDS = float(env_str("HEALTHZ_CACHE_SECONDS", "5"))
# How many proxies of ours stand in front of the site (nginx: 1); see ask.core.clients.
ASK_TRUSTED_PROXIES = env_int("ASK_TRUSTED_PROXIES", 0)
RATELIMIT_IP_META_KEY = "ask.core.clients.client_ip"
# Rate limits (django-ratelimit, counted in the shared cache; an outage lets requests through).
ACCOUNTS_RESEND_RATE_PER_ADDRESS = env_str("ACCOUNTS_RESEND_RATE_PER_ADDRESS", "3/h")
ACCOUNTS_RESEND_RATE_PER_CLIENT = env_str("ACCOUNTS_RESEND_RATE_PER_CLIENT", "10/h")
ACCOUNTS_RESET_RATE_PER_ADDRESS = env_str("ACCOUNTS_RESET_RATE_PER_ADDRESS", "3/h")
ACCOUNTS_RESET_RATE_PER_CLIENT = env_str("ACCOUNTS_RESET_RATE_PER_CLIENT", "10/h")
ACCOUNTS_SIGN_UP_RATE_PER_ADDRESS = env_str("ACCOUNTS_SIGN_UP_RATE_PER_ADDRESS", "3/h")
ACCOUNTS_SIGN_UP_RATE_PER_CLIENT = env_str("ACCOUNTS_SIGN_UP_RATE_PER_CLIENT", "10/h")
ACCOUNTS_EMAIL_CHANGE_RATE = env_str("ACCOUNTS_EMAIL_CHANGE_RATE", "5/h")  # tries per member (each checks the password)
ACCOUNTS_EMAIL_CHANGE_HOURS = env_int("ACCOUNTS_EMAIL_CHANGE_HOURS", 48)  # how long a confirmation link works
QA_ANSWER_RATE_PER_MEMBER = env_str("QA_ANSWER_RATE_PER_MEMBER", "20/h")
QA_ANSWER_RATE_PER_CLIENT = env_str("QA_ANSWER_RATE_PER_CLIENT", "60/h")
QA_EDIT_RATE_PER_MEMBER = env_str("QA_EDIT_RATE_PER_MEMBER", "60/h")  # edits and deletes (each keeps a revision)
QA_FLAG_RATE_PER_MEMBER = env_str("QA_FLAG_RATE_PER_MEMBER", "30/h")  # flags of posts
QA_PREVIEW_RATE_PER_MEMBER = env_str("QA_PREVIEW_RATE_PER_MEMBER", "300/h")  # Markdown previews (each a render)
QA_SPAM_GRACE_DAYS = env_int("QA_SPAM_GRACE_DAYS", 7)  # purge_spam deletes posts hidden as spam this long ago
# The site's public address, for links in mail that jobs write without a request (digests).
ASK_SITE_URL = env_str("ASK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")  # the site's days (statistics) are counted in this zone
USE_I18N = True
USE_TZ = True

# --- Orders ---------------------------------------------------------------------------------------
# Planning (orders.planning): pickup this long before the road needs it; later than eta + ON_TIME: late.
ORDERS_PLAN_MARGIN_SECONDS = env_int("ORDERS_PLAN_MARGIN_SECONDS", 60)
ORDERS_ON_TIME_MINUTES = env_int("ORDERS_ON_TIME_MINUTES", 5)
ORDERS_MIN_NOTICE_MINUTES = env_int("ORDERS_MIN_NOTICE_MINUTES", 30)  # the earliest ETA, from now
ORDERS_MAX_DAYS_AHEAD = env_int("ORDERS_MAX_DAYS_AHEAD", 14)  # the latest ETA, from now
ORDERS_SLOT_DAYS = env_int("ORDERS_SLOT_DAYS", 3)  # checkout offers quarter-hour slots over this many days
ORDERS_CURRENCY = env_str("ORDERS_CURRENCY", "EUR")  # ISO 4217: prices are shown in it ("€9.50")
ORDERS_DELIVERY_FEE = env_str("ORDERS_DELIVERY_FEE", "2.50")  # added to every order, in that currency
ORDERS_POLL_SECONDS = env_int("ORDERS_POLL_SECONDS", 20)  # how often a waiting order is looked at again
# An idle processor's longest wait while it LISTENs (woken by NOTIFY and due times; --interval while
# it polls): a safety net for a lost notification; a dead connection errors within its keepalives.
ORDERS_LISTENING_MAX_WAIT = env_int("ORDERS_LISTENING_MAX_WAIT", 30)
ORDERS_BATCH_SIZE = env_int("ORDERS_BATCH_SIZE", 100)  # orders one processor claims per pass
ORDERS_DELIVERY_WEBHOOK_TOKEN = env_str("ORDERS_DELIVERY_WEBHOOK_TOKEN")  # the pushing courier's token
ORDERS_SIM_PICKUP_SECONDS = env_int("ORDERS_SIM_PICKUP_SECONDS", 120)  # simulated courier: to pick-up
ORDERS_SIM_DELIVERY_SECONDS = env_int("ORDERS_SIM_DELIVERY_SECONDS", 300)  # ... and on to the door
ORDERS_SIM_VARIATION_PERCENT = env_int("ORDERS_SIM_VARIATION_PERCENT", 0)  # simulated timings vary ±this
ORDERS_SIM_CALL_MS = env_int("ORDERS_SIM_CALL_MS", 0)  # simulated latency of each outside call
ORDERS_CLOCK_OFFSET_SECONDS = env_int("ORDERS_CLOCK_OFFSET_SECONDS", 0)  # tests and demos move time

# --- Static and uploaded files --------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # before any collectstatic, WhiteNoise would warn on stderr (cron mails it)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "ask.core.storage.StaticStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

# --- HTTPS ----------------------------------------------------------------------------------------
# ASK_HTTPS=1 behind TLS (production): secure cookies, HSTS and redirects; check --deploy passes.
HTTPS = env_bool("ASK_HTTPS", False)
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading is a promise to browsers' built-in lists that is slow to take back: asked for, not assumed.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")  # preload is the admin's choice (SECURE_HSTS_PRELOAD=1)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): README "Security"; chart <style>s carry a nonce (ask.stats.charts).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", csp_constants.NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Backups --------------------------------------------------------------------------------------
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))
# The key signing backups (ask.core.backup_signing), outside BACKUP_DIR; BACKUP_SIGNING_KEY wins over the file.
BACKUP_SIGNING_KEY = env_str("BACKUP_SIGNING_KEY")
BACKUP_SIGNING_KEY_FILE = Path(env_str("BACKUP_SIGNING_KEY_FILE", str(VAR_DIR / "backup-signing-key")))
BACKUP_COMPRESSION = env_int("BACKUP_COMPRESSION", 1)  # pg_dump's: 1 keeps most of the gain (655 MB: 2.0 s vs 16.8)
BACKUP_KEEP_DAILY = env_int("BACKUP_KEEP_DAILY", 7)  # rotation: the newest backup of each of 7 days
BACKUP_KEEP_WEEKLY = env_int("BACKUP_KEEP_WEEKLY", 4)  # ... and of each of 4 weeks
# Continuous archiving (README "Backups"): archive_wal streams the log, base_backup copies the cluster.
BACKUP_WAL_ARCHIVE = env_bool("BACKUP_WAL_ARCHIVE", False)
BACKUP_REPLICATION_URL = env_str("BACKUP_REPLICATION_URL") or DATABASE_URL  # a role WITH REPLICATION
BACKUP_BASE_KEEP = env_int("BACKUP_BASE_KEEP", 7)  # base backups kept: the days a restore can go back
BACKUP_ARCHIVE_MAX_LAG_SECONDS = env_int("BACKUP_ARCHIVE_MAX_LAG_SECONDS", 300)  # /healthz degrades past it
BACKUP_VERIFIED_MAX_DAYS = env_int("BACKUP_VERIFIED_MAX_DAYS", 8)  # ... and past a verified backup this old
BACKUP_PG_BINDIR = env_str("BACKUP_PG_BINDIR")  # the server's programs for a restore; default by its version

# --- Logging --------------------------------------------------------------------------------------
# One line per event (tracebacks folded in), to stderr for journald, or to LOG_FILE (scripts/cron-job sets
# var/log/jobs.log, so cron mails a failing job's one line only).
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FILE = env_str("LOG_FILE")
LOG_FORMAT = env_choice("LOG_FORMAT", "line", ["line", "json"])  # json: one JSON object a line (ask.log)
_LOG_HANDLER = (
    {"class": "logging.handlers.WatchedFileHandler", "filename": LOG_FILE, "formatter": LOG_FORMAT}
    if LOG_FILE
    else {"class": "ask.log.StderrHandler", "stream": sys.stderr, "formatter": LOG_FORMAT}
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": "ask.log.OneLineFormatter"}, "json": {"()": "ask.log.JsonFormatter"}},
    "handlers": {"stderr": _LOG_HANDLER},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        # Django logs every 4xx as a warning; that is the access log's job.
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        # Not post_office's "Started sending 0 emails" each idle pass (send_queued_mail says what it did);
        # a handler here also stops post_office installing its own.
        "post_office": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}

# --- Background jobs ------------------------------------------------------------------------------
# The one schedule, and why each time is chosen: ask/cronjobs.py.
from ask.cronjobs import CRONJOBS  # noqa: E402,F401

JOBS_RUN_RETENTION_DAYS = env_int("JOBS_RUN_RETENTION_DAYS", 90)  # prune_job_runs keeps this long
JOBS_STALE_INTERVALS = env_int("JOBS_STALE_INTERVALS", 3)  # STALE after this many missed schedules
# How often a running exclusive job asks whether it still holds its lock (ask.jobs.fencing).
JOBS_LOCK_CHECK_SECONDS = float(env_str("JOBS_LOCK_CHECK_SECONDS", "2"))
JOBS_LOCK_DIR = VAR_DIR / "locks"  # file locks for jobs when the database is SQLite

# django-crontab: `manage.py crontab add|show|remove` installs CRONJOBS; lines run through scripts/cron-job.
CRONTAB_DJANGO_PROJECT_NAME = "ask"
CRONTAB_DJANGO_MANAGE_PATH = str(BASE_DIR / "manage.py")
CRONTAB_PYTHON_EXECUTABLE = f"{BASE_DIR / 'scripts' / 'cron-job'} --python"
CRONTAB_COMMAND_PREFIX = "ASK_JOB_SCHEDULED=1"  # started by the schedule: the run claims its slot
CRONTAB_COMMENT = f"django-cronjobs for {SITE_NAME}"
CRONTAB_EXECUTABLE = env_str("CRONTAB_EXECUTABLE", "/usr/bin/crontab")
