"""casedesk settings: everything configurable comes from the environment (see README).

Defaults run the embedded demo on a laptop (SQLite, a broker directory, email to files);
with DJANGO_DEBUG off the process refuses to start without a real secret and hosts.
"""

import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from casedesk.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CASEDESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
            "(for local work, set DJANGO_DEBUG=1 or use `make run`)."
        )
    # Known to bandit (B105) and accepted: a key for DJANGO_DEBUG only; start-up refuses it
    # without debug (above).
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-never-in-production"  # nosec B105

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_fsm",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "anymail",
    "accounts",
    "casedesk",
    "escalation",
    "inbound",
]

MIDDLEWARE = [
    # First, so nothing after it (static files, sessions, views) meets a NUL byte.
    "casedesk.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so the static files it serves carry the policies too.
    "csp.middleware.CSPMiddleware",
    "casedesk.browser_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    # After the session limits: an ended session is not asked for its code.
    "accounts.middleware.SecondFactorMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by a lock-out into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "casedesk.urls"
WSGI_APPLICATION = "casedesk.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # which sends each kind of person to their own start
LOGOUT_REDIRECT_URL = "login"
# axes's backend first: it refuses a locked-out attempt before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casedesk.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite is shared by the web process and the Celery worker in the embedded default:
# WAL lets readers run beside a writer, IMMEDIATE takes the write lock at BEGIN (so a
# transaction never fails half-way on an upgrade), and the timeout waits for the lock.
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL;",
}
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'casedesk.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = _SQLITE_OPTIONS
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Our queries are short index ranges, whose plans can still cost enough for PostgreSQL
    # to compile them (JIT): 75 ms of compiling for a 15 ms query on the dashboard at a
    # million cases; or to start a parallel worker for them: 5 ms to start one for the
    # 0.4 ms of a hand-offs view. Both off, as for any OLTP workload; other options from
    # the URL are kept.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c jit=off -c max_parallel_workers_per_gather=0"
    ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker and cache -----------------------------------------------------------------
# Redis is optional for the web: every call to it is bounded by a short timeout, so a Redis
# that is down or frozen costs a page at most about a second, never an error (README
# "Redis down or frozen"). Publishing a task after commit gives up fast (the outbox row stays
# pending and beat's delivery task sends it); the cache falls back to process memory
# (casedesk.cache).
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "max_retries": 1,  # of a connection for publishing, before the error reaches the caller
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
REDIS_CACHE_OPTIONS = {
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
}
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = dict(REDIS_BROKER_TRANSPORT_OPTIONS)
    CACHES = {
        "default": {
            "BACKEND": "casedesk.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    # A broker that needs no server: kombu's filesystem transport runs beat schedules
    # (memory:// does not). Web and worker share the directory.
    # Every folder the transport knows is named here: left out, `control_folder` (its
    # exchange bindings) would be `control/` in whatever directory a process started in.
    _BROKER_DIR = VAR_DIR / "broker"
    _BROKER_DIR.mkdir(parents=True, exist_ok=True)  # kombu does not create it
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR),
        "data_folder_out": str(_BROKER_DIR),
        "control_folder": str(_BROKER_DIR / "control"),
        "processed_folder": str(_BROKER_DIR / "processed"),  # used only if store_processed
        "store_processed": False,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_TIMEZONE = "UTC"
# Publishing must not hang a web request when the broker is down: one try, bounded by the
# socket timeout above; the outbox row waits for beat's delivery task.
CELERY_TASK_PUBLISH_RETRY = False
CASEDESK_SWEEP_SECONDS = env_int("CASEDESK_SWEEP_SECONDS", 60, minimum=1)
# How often beat reads the active mailboxes (inbound/imap.py).
CASEDESK_MAIL_POLL_SECONDS = env_int("CASEDESK_MAIL_POLL_SECONDS", 60, minimum=5)
# A folder whose *.eml files are received as email at each poll (inbound/drop.py): the
# demo's way in without a mail server (bin/run-demo sets it); empty: none.
CASEDESK_MAIL_DROP_DIR = env_str("CASEDESK_MAIL_DROP_DIR", "")
# An email provider's inbound webhook (django-anymail: /anymail/<provider>/inbound/) is
# served only with a secret, which the provider sends as basic auth ("user:password").
ANYMAIL = {"WEBHOOK_SECRET": env_str("CASEDESK_INBOUND_WEBHOOK_SECRET", "")}
HEARTBEAT_SECONDS = env_int("CASEDESK_HEARTBEAT_SECONDS", 60, minimum=1)
# Escalation never waits behind email: the sweep (and the heartbeat that shows it is alive)
# has its own queue, delivery its own, each consumed by its own workers (README
# "Production"); everything else goes to Celery's default queue, "celery".
# Named, so a worker started without -Q consumes all three (as `make run`'s does).
CELERY_TASK_QUEUES = [Queue("sweep"), Queue("mail"), Queue("celery")]
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "escalation.tasks.run_escalations": {"queue": "sweep"},
    "casedesk.tasks.record_heartbeat": {"queue": "sweep"},
    "casedesk.tasks.deliver_notification": {"queue": "mail"},
    "casedesk.tasks.deliver_due_notifications": {"queue": "mail"},
    "inbound.tasks.poll_mailboxes": {"queue": "mail"},
}
# How often beat runs the delivery task, which sends what is due in the outbox (retries,
# rows whose task was lost) for a few seconds at the relay's pace: a recovered outage drains
# as fast as the relay takes mail, not at the sweep's pace.
CASEDESK_DELIVERY_SECONDS = env_int("CASEDESK_DELIVERY_SECONDS", 5, minimum=1)
# How fast each worker hands email to the relay, e.g. "10/s" or "300/m"; empty (the
# default): no limit. A rate-limited worker holds received messages unacknowledged while it
# waits, and kombu crashes a worker that loses Redis with such messages in hand (restoring
# them), so set it only where the relay needs it.
CASEDESK_MAIL_RATE_LIMIT = env_str("CASEDESK_MAIL_RATE_LIMIT", "")
if CASEDESK_MAIL_RATE_LIMIT and not re.fullmatch(
    r"[0-9]+(\.[0-9]+)?/[smh]", CASEDESK_MAIL_RATE_LIMIT
):
    raise ImproperlyConfigured(
        f"CASEDESK_MAIL_RATE_LIMIT={CASEDESK_MAIL_RATE_LIMIT!r} is not a rate: use e.g. 10/s"
    )
# A run of beat's delivery task sends for 5 seconds (casedesk.tasks.DELIVERY_BUDGET) and a
# run starts every few seconds: a rate slower than one email per run could not be kept.
if CASEDESK_MAIL_RATE_LIMIT:
    _count, _unit = CASEDESK_MAIL_RATE_LIMIT.split("/")
    if float(_count) / {"s": 1, "m": 60, "h": 3600}[_unit] < 1 / 5:
        raise ImproperlyConfigured(
            f"CASEDESK_MAIL_RATE_LIMIT={CASEDESK_MAIL_RATE_LIMIT!r} is slower than one email "
            "in 5 seconds, which the outbox cannot keep to: use at least 12/m"
        )
CELERY_TASK_ANNOTATIONS = {
    "casedesk.tasks.deliver_notification": {"rate_limit": CASEDESK_MAIL_RATE_LIMIT or None}
}
# How often the dashboard's figures are recomputed: how old they can be.
CASEDESK_FIGURES_SECONDS = env_int("CASEDESK_FIGURES_SECONDS", 300, minimum=10)
CELERY_BEAT_SCHEDULE = {
    "record-heartbeat": {"task": "casedesk.tasks.record_heartbeat", "schedule": HEARTBEAT_SECONDS},
    # The escalation sweep. No expiry: a run made late by a backlog still runs, and runs that
    # overlap are harmless (each item is claimed with SKIP LOCKED, one escalation per deadline).
    "run-escalations": {
        "task": "escalation.tasks.run_escalations",
        "schedule": CASEDESK_SWEEP_SECONDS,
    },
    # A run that waited longer than the interval is dropped: the next one does the same work
    # (and runs that pile up behind a backlog of email would only find it done).
    "deliver-due-notifications": {
        "task": "casedesk.tasks.deliver_due_notifications",
        "schedule": CASEDESK_DELIVERY_SECONDS,
        "options": {"expires": CASEDESK_DELIVERY_SECONDS},
    },
    # Email in: each active mailbox read (a bounded batch each); a run that waited past the
    # next is dropped, the next reads the same mailboxes.
    "poll-mailboxes": {
        "task": "inbound.tasks.poll_mailboxes",
        "schedule": CASEDESK_MAIL_POLL_SECONDS,
        "options": {"expires": CASEDESK_MAIL_POLL_SECONDS},
    },
    # Whoever is at the top of chains: one digest a day of what is stalled with them, sent
    # in their business hours (the day's row makes a second one impossible).
    "send-top-digests": {"task": "escalation.tasks.send_top_digests", "schedule": 15 * 60},
    # The dashboard's figures, recomputed over the last 30 days (escalation/figures.py says
    # why a job). A run that waited past the next one is dropped: that one does the same.
    "refresh-figures": {
        "task": "escalation.tasks.refresh_figures",
        "schedule": CASEDESK_FIGURES_SECONDS,
        "options": {"expires": CASEDESK_FIGURES_SECONDS},
    },
}

# --- Email ----------------------------------------------------------------------------
# The demo writes each message to a file under EMAIL_FILE_PATH and logs one line for it;
# with DJANGO_DEBUG off, mail goes out by SMTP unless EMAIL_BACKEND says otherwise.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "casedesk.mail_backends.FileEmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
# Seconds one SMTP socket operation may wait: a relay that hangs cannot hold a send (and the
# outbox row's claim, whose lease derives from this) for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # for the file backends
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "casedesk <casedesk@localhost>")
CASEDESK_SITE_URL = env_str("CASEDESK_SITE_URL", "http://127.0.0.1:8000")
# --- Email in (inbound/) ----------------------------------------------------------------
# Client emails carry a Reply-To naming their case, signed: <local part>+<token>@<domain> of
# the case's department's mailbox, or reply+<token>@CASEDESK_REPLY_DOMAIN when the department
# has none (empty: such emails carry no Reply-To; replies still thread by In-Reply-To).
CASEDESK_REPLY_DOMAIN = env_str("CASEDESK_REPLY_DOMAIN", "")
# How many messages one poll reads from each mailbox (CASEDESK_MAIL_POLL_SECONDS: how often).
CASEDESK_MAIL_POLL_BATCH = env_int("CASEDESK_MAIL_POLL_BATCH", 50, minimum=1)
# A pause between recording a message and moving it (the fault drills' window); 0 in use.
CASEDESK_MAIL_POLL_PAUSE_MS = env_int("CASEDESK_MAIL_POLL_PAUSE_MS", 0)
# The longest text kept of one email (characters); longer ones are cut, with a note.
CASEDESK_MAIL_MAX_TEXT = env_int("CASEDESK_MAIL_MAX_TEXT", 20_000, minimum=1000)

# --- Outbox (casedesk/notifications.py) -------------------------------------------------
# An email that fails is tried again after 2, 4, 8... minutes, at most an hour apart, for
# this long after it was queued; then it is marked failed: listed in the admin's outbox
# (where "Send again" queues it anew), counted on /healthz, and the case's holder is told.
CASEDESK_OUTBOX_GIVE_UP_HOURS = env_int("CASEDESK_OUTBOX_GIVE_UP_HOURS", 72, minimum=1)

# --- Time -----------------------------------------------------------------------------
USE_TZ = True
TIME_ZONE = env_str("CASEDESK_TIME_ZONE", "Europe/London")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"CASEDESK_TIME_ZONE={TIME_ZONE!r} is not an IANA time zone"
    ) from None
LANGUAGE_CODE = "en-gb"
USE_I18N = False

# How long after resolution a client may reopen their case from the status page.
CASEDESK_CLIENT_REOPEN_DAYS = env_int("CASEDESK_CLIENT_REOPEN_DAYS", 30, minimum=0)
# How long a client contact's emailed sign-in link works (once).
CASEDESK_CLIENT_LINK_MINUTES = env_int("CASEDESK_CLIENT_LINK_MINUTES", 30, minimum=1)

# --- Second factor (accounts.second_factor) ----------------------------------------------
# Off by default so the demo's people sign in with a password alone; on in production:
# supervisors and above and administrators then must use an authenticator app.
CASEDESK_SECOND_FACTOR_REQUIRED = env_bool("CASEDESK_SECOND_FACTOR_REQUIRED", default=False)
CASEDESK_SECOND_FACTOR_AGENTS = env_choice(
    "CASEDESK_SECOND_FACTOR_AGENTS", "optional", ("optional", "required")
)
OTP_TOTP_ISSUER = "casedesk"
# Wrong status-page tokens one address may try per 10 minutes before it is refused.
CASEDESK_STATUS_BAD_TOKENS = env_int("CASEDESK_STATUS_BAD_TOKENS", 20, minimum=1)

# Deadlines come from SLA policies (admin); holders are warned at this share of the time.
CASEDESK_WARNING_PERCENT = env_int("CASEDESK_WARNING_PERCENT", 75, minimum=1)
if CASEDESK_WARNING_PERCENT >= 100:
    raise ImproperlyConfigured("CASEDESK_WARNING_PERCENT must be below 100.")

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Attachments: a storage of their own (casedesk.attachments), on the filesystem under
# VAR_DIR by default; in production any django-storages backend (S3, Azure, GCS), its
# options as JSON (e.g. {"bucket_name": "casedesk-files"}). Stored names are random.
CASEDESK_ATTACHMENT_STORAGE = env_str(
    "CASEDESK_ATTACHMENT_STORAGE", "django.core.files.storage.FileSystemStorage"
)
try:
    _ATTACHMENT_OPTIONS = json.loads(env_str("CASEDESK_ATTACHMENT_STORAGE_OPTIONS", "{}"))
except ValueError:
    raise ImproperlyConfigured("CASEDESK_ATTACHMENT_STORAGE_OPTIONS is not JSON") from None
if not isinstance(_ATTACHMENT_OPTIONS, dict):
    raise ImproperlyConfigured("CASEDESK_ATTACHMENT_STORAGE_OPTIONS must be a JSON object")
if CASEDESK_ATTACHMENT_STORAGE.endswith(".FileSystemStorage"):
    _ATTACHMENT_OPTIONS.setdefault(
        "location", env_str("CASEDESK_ATTACHMENT_DIR", str(VAR_DIR / "attachments"))
    )
# Per file, and per message (a note, a message, a hand-off answer).
CASEDESK_ATTACHMENT_MAX_BYTES = env_int(
    "CASEDESK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1
)
CASEDESK_ATTACHMENT_MAX_FILES = env_int("CASEDESK_ATTACHMENT_MAX_FILES", 5, minimum=1)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": {"BACKEND": CASEDESK_ATTACHMENT_STORAGE, "OPTIONS": _ATTACHMENT_OPTIONS},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# In development whitenoise serves straight from the app and static/ folders.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security (production: DJANGO_DEBUG off) ------------------------------------------
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto, and count throttled
# attempts by the address it forwards (casedesk.throttle).
CASEDESK_BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", default=False)
SESSION_COOKIE_HTTPONLY = True

# --- Sign-in and sessions (casedesk/signin.py, accounts/sessions.py; README "Security") --
# Failed sign-ins per username, and per address, before sign-in is paused for a cool-off that
# doubles with each repeated lock-out, up to the maximum.
CASEDESK_SIGNIN_FAILURE_LIMIT = env_int("CASEDESK_SIGNIN_FAILURE_LIMIT", 10, minimum=1)
CASEDESK_SIGNIN_COOLOFF_MINUTES = env_int("CASEDESK_SIGNIN_COOLOFF_MINUTES", 15, minimum=1)
CASEDESK_SIGNIN_COOLOFF_MAX_HOURS = env_int("CASEDESK_SIGNIN_COOLOFF_MAX_HOURS", 24, minimum=1)
if CASEDESK_SIGNIN_COOLOFF_MAX_HOURS * 60 < CASEDESK_SIGNIN_COOLOFF_MINUTES:
    raise ImproperlyConfigured(
        "CASEDESK_SIGNIN_COOLOFF_MAX_HOURS must not be shorter than "
        "CASEDESK_SIGNIN_COOLOFF_MINUTES."
    )
AXES_HANDLER = "casedesk.signin.SignInAttempts"
AXES_FAILURE_LIMIT = CASEDESK_SIGNIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.network.address"  # the one rule, behind the proxy too
AXES_COOLOFF_TIME = "casedesk.signin.cool_off"
AXES_LOCKOUT_CALLABLE = "casedesk.signin.locked_out_response"
# Attempts during a lock-out are refused, not counted: they neither extend it nor send mail.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe failures: it would wipe every failure from the same address too,
# so an attacker with an account could sign in to it to reset their count on someone else.
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True  # our access audit (accounts.AccessEvent) is the record
AXES_VERBOSE = False  # no banner on every command; failures are in the access audit
# A password sign-in ends after this long without a request, and this long after it began.
CASEDESK_SESSION_IDLE_MINUTES = env_int("CASEDESK_SESSION_IDLE_MINUTES", 60, minimum=1)
CASEDESK_SESSION_MAX_HOURS = env_int("CASEDESK_SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = CASEDESK_SESSION_MAX_HOURS * 3600  # no session row or cookie outlives it
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if CASEDESK_BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Browser policies (every response, DEBUG or not) ----------------------------------
# Content-Security-Policy (django-csp): scripts, styles, fonts and connections only from
# our own origin, never inline (every page's script and style is a file in static/), so a
# missed escape cannot run script with an agent's session. Bootstrap's CSS draws its icons
# as data: SVG images. No plugins, no <base> to re-point relative links, forms post only
# to us, and no site may frame us (with X-Frame-Options for browsers that predate CSP).
_CSP_DIRECTIVES = {
    "default-src": [SELF],
    "img-src": [SELF, "data:"],
    "object-src": [NONE],
    "base-uri": [NONE],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
# Where browsers send violation reports (a collector of your choice); unset, none are sent.
CASEDESK_CSP_REPORT_URI = env_str("CASEDESK_CSP_REPORT_URI")
if CASEDESK_CSP_REPORT_URI:
    _CSP_DIRECTIVES["report-uri"] = [CASEDESK_CSP_REPORT_URI]
# Rolling the policy out: 1 sends it as Content-Security-Policy-Report-Only, so browsers
# report what it would block and block nothing. See the README's Security section.
CASEDESK_CSP_REPORT_ONLY = env_bool("CASEDESK_CSP_REPORT_ONLY", default=False)
if CASEDESK_CSP_REPORT_ONLY:
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}
# A status page's address is its client's key: no other site may learn it from a link.
SECURE_REFERRER_POLICY = "same-origin"
# A window we open, or that opens us, gets no handle on the other (no tab-nabbing).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CASEDESK_LOG_LEVEL", "INFO")},
}
