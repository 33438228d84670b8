"""Settings, read from the environment (see .env.example for every variable).

DEBUG is off unless set. With DEBUG off the process refuses to start without SECRET_KEY and the
relay key ring, and refuses DEMO_KEYS=1: the demo keys are derived from this repository's source,
so anyone can read them. DEMO_KEYS (on by default only when DEBUG is on) is what `make run` uses;
the test suite and the bench pass their own keys explicitly (config/settings_test.py,
bench/procs.py).
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import public_keys
from config.env import Env

# Lets `forms.ModelForm[Listing]` and friends be written with their type parameters.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PERANTARA_VAR_DIR", BASE_DIR / "var"))
env = Env()

DEBUG = env.flag("DEBUG", False)
DEMO_KEYS = env.flag("DEMO_KEYS", DEBUG)
if DEMO_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "DEMO_KEYS=1 is refused with DEBUG=0: the demo keys are derived from public source code, "
        "so anyone could read every address and message sealed under them. Unset DEMO_KEYS and "
        "set SECRET_KEY, RELAY_KEYRING, RELAY_INDEX_KEY and RELAY_MODERATION_KEYS (print fresh "
        "ones with: DEBUG=1 python manage.py generate_keys)."
    )


def _demo_key(purpose: str) -> bytes:
    # Fixed, public keys for the demo only; never used when DEMO_KEYS is off.
    return public_keys.derive(b"perantara-demo", purpose)


SECRET_KEY = env.text("SECRET_KEY")
if not SECRET_KEY:
    if not DEMO_KEYS:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG and DEMO_KEYS are off")
    SECRET_KEY = public_keys.secret_key(b"perantara-demo")

# --- The relay key ring -------------------------------------------------------------------
# RELAY_KEYRING="k1:<base64 32 bytes>,k2:..." wraps conversation keys and vault entries;
# RELAY_KEY_CURRENT names the one new data is sealed under. RELAY_INDEX_KEY keys the blind
# index and does not rotate (rotating it means re-indexing every address).
RELAY_KEYRING = env.keyring("RELAY_KEYRING")
RELAY_KEY_CURRENT = env.text("RELAY_KEY_CURRENT")
_index_key = env.key("RELAY_INDEX_KEY")
if not DEMO_KEYS and not (RELAY_KEYRING and _index_key):
    raise ImproperlyConfigured(
        "RELAY_KEYRING and RELAY_INDEX_KEY must be set when DEBUG and DEMO_KEYS are off "
        "(print fresh ones with: DEBUG=1 python manage.py generate_keys)"
    )
RELAY_KEYRING = RELAY_KEYRING or {"demo1": _demo_key("keyring-demo1")}
RELAY_INDEX_KEY: bytes = _index_key or _demo_key("blind-index")
if not RELAY_KEY_CURRENT:
    if len(RELAY_KEYRING) != 1:
        raise ImproperlyConfigured("RELAY_KEY_CURRENT must name one of the RELAY_KEYRING ids")
    RELAY_KEY_CURRENT = next(iter(RELAY_KEYRING))
if RELAY_KEY_CURRENT not in RELAY_KEYRING:
    raise ImproperlyConfigured(f"RELAY_KEY_CURRENT={RELAY_KEY_CURRENT!r} is not in RELAY_KEYRING")

# --- The moderation key ring (report evidence; see relay/evidence_crypto.py) ----------------
# Each report's own key is wrapped to the public half of a moderation key. Only the processes
# that open evidence hold private halves: the web processes serving the moderation pages and
# API, and `rotate_moderation_key`. Processes that only file reports (Celery workers, webhook
# nodes) get the public halves alone and can seal but never open.
#   RELAY_MODERATION_KEYS="m1:<base64 private>,m2:..."   private halves, by key id
#   RELAY_MODERATION_KEY_CURRENT=m2                       the one new reports are wrapped to
#   RELAY_MODERATION_PUBLIC_KEYS="m1:<base64 public>,..." public halves, for sealing-only processes
# The single RELAY_MODERATION_KEY of earlier versions still works: it is key id m1.
from nacl.public import PrivateKey as _X25519PrivateKey  # noqa: E402

RELAY_MODERATION_KEYS: dict[str, bytes] = env.keyring("RELAY_MODERATION_KEYS")
RELAY_MODERATION_PUBLIC_KEYS: dict[str, bytes] = env.keyring("RELAY_MODERATION_PUBLIC_KEYS")
RELAY_MODERATION_KEY_CURRENT = env.text("RELAY_MODERATION_KEY_CURRENT")
_legacy_moderation_key = env.key("RELAY_MODERATION_KEY")
if _legacy_moderation_key is not None:
    if RELAY_MODERATION_KEYS.get("m1", _legacy_moderation_key) != _legacy_moderation_key:
        raise ImproperlyConfigured(
            "RELAY_MODERATION_KEY is moderation key m1, but RELAY_MODERATION_KEYS has another m1"
        )
    RELAY_MODERATION_KEYS = {"m1": _legacy_moderation_key, **RELAY_MODERATION_KEYS}
if DEMO_KEYS and not (RELAY_MODERATION_KEYS or RELAY_MODERATION_PUBLIC_KEYS):
    RELAY_MODERATION_KEYS = {"m1": _demo_key("moderation")}
if not (RELAY_MODERATION_KEYS or RELAY_MODERATION_PUBLIC_KEYS):
    raise ImproperlyConfigured(
        "RELAY_MODERATION_KEYS (or, in processes that only file reports, "
        "RELAY_MODERATION_PUBLIC_KEYS) must be set when DEBUG and DEMO_KEYS are off "
        "(print fresh ones with: DEBUG=1 python manage.py generate_keys)"
    )
for _key_id, _private_half in RELAY_MODERATION_KEYS.items():
    _public_half = bytes(_X25519PrivateKey(_private_half).public_key)
    if RELAY_MODERATION_PUBLIC_KEYS.get(_key_id, _public_half) != _public_half:
        raise ImproperlyConfigured(
            f"RELAY_MODERATION_PUBLIC_KEYS: key {_key_id!r} is not the public half of "
            f"RELAY_MODERATION_KEYS' {_key_id!r}"
        )
    RELAY_MODERATION_PUBLIC_KEYS[_key_id] = _public_half
if not RELAY_MODERATION_KEY_CURRENT:
    if len(RELAY_MODERATION_PUBLIC_KEYS) != 1:
        raise ImproperlyConfigured(
            "RELAY_MODERATION_KEY_CURRENT must name one of the moderation key ids"
        )
    RELAY_MODERATION_KEY_CURRENT = next(iter(RELAY_MODERATION_PUBLIC_KEYS))
if RELAY_MODERATION_KEY_CURRENT not in RELAY_MODERATION_PUBLIC_KEYS:
    raise ImproperlyConfigured(
        f"RELAY_MODERATION_KEY_CURRENT={RELAY_MODERATION_KEY_CURRENT!r} is not in "
        "RELAY_MODERATION_KEYS or RELAY_MODERATION_PUBLIC_KEYS"
    )
# Report evidence, reporters' notes and moderators' notes are shredded this many days after the
# report is resolved or dismissed (`purge`), unless a legal hold is active.
RELAY_EVIDENCE_RETENTION_DAYS = env.integer("RELAY_EVIDENCE_RETENTION_DAYS", 180, minimum=1)

ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.items("CSRF_TRUSTED_ORIGINS")
RELAY_PUBLIC_URL = env.text("RELAY_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "contacts",
    "marketplace",
    "relay",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.NoStoreForLoggedInMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "contacts.User"
LOGIN_URL = "contacts:login"
LOGIN_REDIRECT_URL = "contacts:landing"  # the queue for a moderator, the listings for a seller
LOGOUT_REDIRECT_URL = "marketplace:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "relay.context_processors.moderation",
            ],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'perantara.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(str(DATABASES["default"]["NAME"])).parent.mkdir(parents=True, exist_ok=True)
# Persistent connections: opening one costs ~5 ms per request on PostgreSQL. DATABASE_URL's
# `?conn_max_age=` / `?conn_health_checks=` (config/env.py) take precedence over the defaults;
# CONN_MAX_AGE set to a different value as well is ambiguous and refused.
_url_max_age = DATABASES["default"].get("CONN_MAX_AGE")
if (
    _url_max_age is not None
    and env.is_set("CONN_MAX_AGE")
    and env.integer("CONN_MAX_AGE", 60, minimum=0) != _url_max_age
):
    raise ImproperlyConfigured(
        "CONN_MAX_AGE and DATABASE_URL's conn_max_age disagree; set only one of them"
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env.integer("CONN_MAX_AGE", 60, minimum=0))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("id", _("Bahasa Indonesia"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.text("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env.text(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or DEMO_KEYS
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "Perantara <no-reply@perantara.local>")
EMAIL_HOST = env.text("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25, minimum=1)

if not DEBUG:
    SESSION_COOKIE_SECURE = env.flag("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", False)
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env.flag("SECURE_HSTS_PRELOAD", False)
    USE_X_FORWARDED_HOST = env.flag("USE_X_FORWARDED_HOST", False)
# X-Forwarded-Proto is believed only behind a proxy the operator names: without one, any client
# could send "X-Forwarded-Proto: https" and pass for a secure request.
TRUST_PROXY = env.flag("TRUST_PROXY", False)
if TRUST_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
elif env.flag("USE_X_FORWARDED_HOST", False):
    raise ImproperlyConfigured("USE_X_FORWARDED_HOST=1 needs TRUST_PROXY=1 (a proxy sets it)")

# --- Phone numbers --------------------------------------------------------------------------
PHONE_DEFAULT_REGION = env.text("PHONE_DEFAULT_REGION", "ID").upper()
VERIFICATION_CODE_TTL_SECONDS = env.integer("VERIFICATION_CODE_TTL_SECONDS", 600, minimum=60)
VERIFICATION_MAX_ATTEMPTS = env.integer("VERIFICATION_MAX_ATTEMPTS", 5, minimum=1)
VERIFICATION_RESEND_SECONDS = env.integer("VERIFICATION_RESEND_SECONDS", 60, minimum=0)
# Shows the code on the page instead of sending it: the demo's stand-in for an SMS.
VERIFICATION_SHOW_CODE = env.flag("VERIFICATION_SHOW_CODE", DEBUG)
# Who carries codes: by default the relay itself, as a notice on the channel being verified.
VERIFICATION_SENDER = env.text("VERIFICATION_SENDER", "relay.services.verification.send_code")

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.text("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker for `make run` and tests without Redis: queues are files in var/.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Short socket timeouts: a webhook publishes after its commit, and a Redis that hangs must
    # cost it a second, not its answer (the sweeper publishes what was left).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_timeout": 5,
        "socket_connect_timeout": 2,
    }
# A publish that fails is retried once, briefly; after that the row waits for the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
default_results = (
    CELERY_BROKER_URL
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else f"file://{VAR_DIR / 'celery-results'}"
)
CELERY_RESULT_BACKEND = env.text("CELERY_RESULT_BACKEND", default_results)
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.integer("CELERY_WORKER_PREFETCH_MULTIPLIER", 4, minimum=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep Django's database connection across tasks (closing it costs ~5 ms a task).
CELERY_DB_REUSE_MAX = env.integer("CELERY_DB_REUSE_MAX", 1000, minimum=0)

# --- Relay ----------------------------------------------------------------------------------
RELAY_HANDLE_LENGTH = 8  # Crockford base32 characters: 40 bits
RELAY_MAX_WEBHOOK_BYTES = env.integer("RELAY_MAX_WEBHOOK_BYTES", 256 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = RELAY_MAX_WEBHOOK_BYTES
RELAY_MAX_TEXT_CHARS = env.integer("RELAY_MAX_TEXT_CHARS", 4000, minimum=100)
RELAY_DELIVERY_MAX_ATTEMPTS = env.integer("RELAY_DELIVERY_MAX_ATTEMPTS", 6, minimum=1)
RELAY_RETRY_BASE_SECONDS = env.number("RELAY_RETRY_BASE_SECONDS", 2.0, minimum=0.01)
RELAY_RETRY_MAX_SECONDS = env.number("RELAY_RETRY_MAX_SECONDS", 300.0, minimum=0.1)
# A pending head of its stream this old lost its publish (a broker that restarted empty, a
# publish that failed after commit): the sweeper publishes it again. A second publish is
# harmless (the claim is a compare-and-set), so this can be short.
RELAY_SWEEP_PENDING_SECONDS = env.integer("RELAY_SWEEP_PENDING_SECONDS", 15, minimum=1)
RELAY_SWEEP_INTERVAL_SECONDS = env.integer("RELAY_SWEEP_INTERVAL_SECONDS", 5, minimum=1)
# Read timeout of a platform send. Neither Meta nor Twilio documents how long their send APIs may
# take; 15 s outlasts the slow answers the fault suite injects (12 s) while a send's lease
# (timeout + 3 s connect + 2 s, services/delivery.py) still hands a dead worker's send on in < 30 s.
RELAY_HTTP_TIMEOUT_SECONDS = env.number("RELAY_HTTP_TIMEOUT_SECONDS", 15.0, minimum=0.1)
RELAY_DEFAULT_LANGUAGE = env.choice("RELAY_DEFAULT_LANGUAGE", "en", ("en", "id"))
# The number guard reads national numbers as written in the sender's region, this one and US.
RELAY_DEFAULT_REGION = env.region("RELAY_DEFAULT_REGION", "ID")
# Moderation and abuse limits (counters live in the cache, keyed by blind index).
RELAY_REPORT_EVIDENCE_MESSAGES = env.integer("RELAY_REPORT_EVIDENCE_MESSAGES", 5, minimum=1)
RELAY_AUTO_SUSPEND_REPORTERS = env.integer("RELAY_AUTO_SUSPEND_REPORTERS", 3, minimum=1)
RELAY_LIMIT_NEW_CONVERSATIONS_PER_HOUR = env.integer(
    "RELAY_LIMIT_NEW_CONVERSATIONS_PER_HOUR", 10, minimum=1
)
RELAY_LIMIT_MESSAGES_PER_MINUTE = env.integer("RELAY_LIMIT_MESSAGES_PER_MINUTE", 20, minimum=1)
RELAY_LIMIT_UNKNOWN_HANDLES_PER_HOUR = env.integer(
    "RELAY_LIMIT_UNKNOWN_HANDLES_PER_HOUR", 5, minimum=1
)
RELAY_DUPLICATE_LISTINGS_PER_HOUR = env.integer("RELAY_DUPLICATE_LISTINGS_PER_HOUR", 5, minimum=2)
RELAY_LIMIT_FIRST_CONTACTS_PER_LISTING_PER_HOUR = env.integer(
    "RELAY_LIMIT_FIRST_CONTACTS_PER_LISTING_PER_HOUR", 30, minimum=1
)
RELAY_LIMIT_WEB_CHATS_PER_BROWSER_PER_HOUR = env.integer(
    "RELAY_LIMIT_WEB_CHATS_PER_BROWSER_PER_HOUR", 5, minimum=1
)
RELAY_LIMIT_WEB_CHATS_PER_NETWORK_PER_HOUR = env.integer(
    "RELAY_LIMIT_WEB_CHATS_PER_NETWORK_PER_HOUR", 20, minimum=1
)
# Buyers' data requests ("Your data", MYDATA): codes sent per address and per network, and
# codes typed per network, in an hour. Counted whether or not the address is known.
RELAY_LIMIT_DATA_REQUESTS_PER_ADDRESS_PER_HOUR = env.integer(
    "RELAY_LIMIT_DATA_REQUESTS_PER_ADDRESS_PER_HOUR", 3, minimum=1
)
RELAY_LIMIT_DATA_REQUESTS_PER_NETWORK_PER_HOUR = env.integer(
    "RELAY_LIMIT_DATA_REQUESTS_PER_NETWORK_PER_HOUR", 10, minimum=1
)
RELAY_LIMIT_DATA_CODE_TRIES_PER_NETWORK_PER_HOUR = env.integer(
    "RELAY_LIMIT_DATA_CODE_TRIES_PER_NETWORK_PER_HOUR", 30, minimum=1
)
# Reverse proxies in front of the web (their X-Forwarded-For entries are trusted, counted from
# the right): the web chat's per-network limit reads the client's address through them.
RELAY_TRUSTED_PROXY_HOPS = env.integer("RELAY_TRUSTED_PROXY_HOPS", 0, minimum=0)
# Conversation lifecycle (relay/services/lifecycle.py): when an idle conversation closes.
RELAY_CLOSE_AFTER_DAYS = env.integer("RELAY_CLOSE_AFTER_DAYS", 7, minimum=1)
RELAY_IDLE_CLOSE_DAYS = env.integer("RELAY_IDLE_CLOSE_DAYS", 60, minimum=1)
# A buyer's web-chat link stops opening this many days after it was issued; using it renews it.
RELAY_CHAT_LINK_DAYS = env.integer("RELAY_CHAT_LINK_DAYS", 30, minimum=1)
# How long a process may use its snapshot of identities, suspensions and bans (0 = always reload).
RELAY_SNAPSHOT_SECONDS = env.number("RELAY_SNAPSHOT_SECONDS", 5.0, minimum=0.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-deliveries": {
        "task": "relay.sweep",
        "schedule": float(RELAY_SWEEP_INTERVAL_SECONDS),
    },
    "close-idle-conversations": {"task": "relay.close_idle", "schedule": 3600.0},
}

# Platforms: each is off until its credentials are set. PLATFORM_SANDBOX_URL points every
# platform that has no real credentials at the local sandbox with its demo credentials.
PLATFORM_SANDBOX_URL = env.text("PLATFORM_SANDBOX_URL").rstrip("/")
SANDBOX_CREDENTIALS = {
    "WHATSAPP_APP_SECRET": "sandbox-whatsapp-secret",
    "WHATSAPP_ACCESS_TOKEN": "sandbox-whatsapp-token",
    "WHATSAPP_VERIFY_TOKEN": "sandbox-verify",
    "MESSENGER_APP_SECRET": "sandbox-messenger-secret",
    "MESSENGER_PAGE_ACCESS_TOKEN": "sandbox-messenger-token",
    "MESSENGER_VERIFY_TOKEN": "sandbox-verify",
    "INSTAGRAM_APP_SECRET": "sandbox-instagram-secret",
    "INSTAGRAM_ACCESS_TOKEN": "sandbox-instagram-token",
    "INSTAGRAM_VERIFY_TOKEN": "sandbox-verify",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "sandbox-twilio-token",
}


def _credential(name: str) -> str:
    value = env.text(name)
    if not value and PLATFORM_SANDBOX_URL:
        return SANDBOX_CREDENTIALS[name]
    return value


def _api_base(name: str, real: str, sandbox_path: str) -> str:
    value = env.text(name)
    if value:
        return value.rstrip("/")
    return f"{PLATFORM_SANDBOX_URL}{sandbox_path}" if PLATFORM_SANDBOX_URL else real


# Meta's Graph API version for every Meta call. v26.0 was released on 29 July 2026 (expiry not
# yet announced; v25.0 expires 29 July 2028, v21.0 on 21 January 2027): developers.facebook.com
# /docs/graph-api/changelog/versions. Move it on when Meta announces the expiry.
GRAPH_VERSION = env.text("GRAPH_API_VERSION", "v26.0")
PLATFORMS: dict[str, dict[str, object]] = {
    "whatsapp": {
        "api_base": _api_base(
            "WHATSAPP_API_BASE",
            f"https://graph.facebook.com/{GRAPH_VERSION}",
            f"/graph/{GRAPH_VERSION}",
        ),
        "access_token": _credential("WHATSAPP_ACCESS_TOKEN"),
        "app_secret": _credential("WHATSAPP_APP_SECRET"),
        "verify_token": _credential("WHATSAPP_VERIFY_TOKEN"),
        "template_name": env.text("WHATSAPP_TEMPLATE_NAME", "new_message_notice"),
        "template_language": env.text("WHATSAPP_TEMPLATE_LANGUAGE", "en"),
    },
    "messenger": {
        "api_base": _api_base(
            "MESSENGER_API_BASE",
            f"https://graph.facebook.com/{GRAPH_VERSION}",
            f"/graph/{GRAPH_VERSION}",
        ),
        "access_token": _credential("MESSENGER_PAGE_ACCESS_TOKEN"),
        "app_secret": _credential("MESSENGER_APP_SECRET"),
        "verify_token": _credential("MESSENGER_VERIFY_TOKEN"),
    },
    "instagram": {
        # Instagram API with Instagram Login: graph.instagram.com/<version>/<IG id>/messages.
        "api_base": _api_base(
            "INSTAGRAM_API_BASE",
            f"https://graph.instagram.com/{GRAPH_VERSION}",
            f"/graph/{GRAPH_VERSION}",
        ),
        # Instagram Messaging through a Facebook Page (a relay identity with a page id):
        # graph.facebook.com/<version>/<Page id>/messages.
        "page_api_base": _api_base(
            "INSTAGRAM_PAGE_API_BASE",
            f"https://graph.facebook.com/{GRAPH_VERSION}",
            f"/graph/{GRAPH_VERSION}",
        ),
        "access_token": _credential("INSTAGRAM_ACCESS_TOKEN"),
        "app_secret": _credential("INSTAGRAM_APP_SECRET"),
        "verify_token": _credential("INSTAGRAM_VERIFY_TOKEN"),
    },
    "sms": {
        "api_base": _api_base("TWILIO_API_BASE", "https://api.twilio.com", "/twilio"),
        "access_token": _credential("TWILIO_ACCOUNT_SID"),
        "app_secret": _credential("TWILIO_AUTH_TOKEN"),
        "status_callback_url": f"{RELAY_PUBLIC_URL}/webhooks/sms/status/",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
# JSON lines for log shippers in production, readable lines on a developer's terminal.
LOG_FORMAT = env.choice("LOG_FORMAT", "plain" if DEBUG else "json", ("json", "plain"))
# Every handler carries the redacting filter (privacy invariant 2: no number is logged).
# Django's own "django" and "django.server" handlers are replaced by propagation to ours, so
# nothing is written by a handler without the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "config.logging.RedactingFilter"},
        "count_signature_failures": {"()": "relay.signature_failures.CountSignatureFailures"},
    },
    "formatters": {
        "plain": {"()": "config.logging.PlainFormatter"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
            "level": LOG_LEVEL,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # Counted for /metrics even when LOG_LEVEL hides warnings (the handler still does).
        "relay.webhooks": {
            "level": "DEBUG" if LOG_LEVEL == "DEBUG" else "INFO",
            "filters": ["count_signature_failures"],
        },
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "relay.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The public API (relay/api/): requests per token (per user for the web session), e.g. "120/min".
API_THROTTLE_RATE = env.text("API_THROTTLE_RATE", "120/min")
if not re.fullmatch(r"[1-9]\d*/(s|sec|m|min|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATE must look like 120/min, got {API_THROTTLE_RATE!r}"
    )
# Outbound integrator webhooks: tries before a delivery is marked failed.
# How long a POST's Idempotency-Key is remembered (purge deletes older records).
API_IDEMPOTENCY_HOURS = env.integer("API_IDEMPOTENCY_HOURS", 24, minimum=1)
API_WEBHOOK_MAX_ATTEMPTS = env.integer("API_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "Perantara API",
    "DESCRIPTION": "A privacy relay for marketplaces: listings, conversations, channels.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets are served from drf-spectacular-sidecar, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ListingStatusEnum": "marketplace.models.Listing.Status",
        "ConversationStatusEnum": "relay.models.Conversation.Status",
        "ReportStatusEnum": "relay.models.Report.Status",
    },
}

# --- Operating it: readiness, metrics, retention ------------------------------------------------
# /metrics answers a request carrying "Authorization: Bearer <METRICS_TOKEN>" or coming from an
# address in METRICS_ALLOWED_IPS (addresses or networks). Behind a reverse proxy on the same host
# every request comes from 127.0.0.1: then set METRICS_ALLOWED_IPS= (empty) and use the token.
METRICS_TOKEN = env.text("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env.items("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_network!r} is not an IP address or network"
        ) from None
READYZ_TIMEOUT_SECONDS = env.number("READYZ_TIMEOUT_SECONDS", 2.0, minimum=0.1)
# Closed and blocked conversations are shredded this many days after they end (`purge`).
RELAY_RETENTION_DAYS = env.integer("RELAY_RETENTION_DAYS", 90, minimum=1)
# A shared cache (redis://...) makes in-process counters such as webhook signature failures
# add up across gunicorn workers; the default is each process's own memory.
CACHE_URL = env.text("CACHE_URL")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # Rate limits fail open when Redis is away (services/limits.py): fail fast too.
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must start with redis://, got {CACHE_URL!r}")
# Celery workers log through LOGGING above (with the redacting filter), not Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Reliability: early statuses, integrator webhook sweep, RabbitMQ ----------------------------
# (Appended as one block; kept apart from the settings above so parallel changes merge cleanly.)
# A status webhook that beats its delivery's stored message id is kept this long for the worker
# to take (relay/services/early_statuses.py); `purge` forgets older ones.
RELAY_EARLY_STATUS_SECONDS = env.integer("RELAY_EARLY_STATUS_SECONDS", 3600, minimum=60)
# An integrator webhook's claim lasts its POST's connect + read timeouts plus this margin;
# the sweeper hands a claim that outlived it to another worker.
API_WEBHOOK_CLAIM_MARGIN_SECONDS = env.integer("API_WEBHOOK_CLAIM_MARGIN_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["sweep-integrator-webhooks"] = {
    "task": "relay.sweep_integrator_webhooks",
    "schedule": float(RELAY_SWEEP_INTERVAL_SECONDS),
}
if CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://")):
    # RabbitMQ: quorum queues (replicated, durable; classic mirrored queues are gone in 4.x).
    # Quorum queues have no global QoS, so Celery switches to per-consumer prefetch (detected
    # from the queue declaration) and countdowns use native delayed delivery, which needs a
    # topic default exchange; publisher confirms make a publish return only once the broker
    # has the message, so `on_commit` publishes are not lost in a broker failover.
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "confirm_publish": True}

# --- Outbound calls on a user's behalf: the SSRF guard (relay/adapters/url_guard.py) -----------
# (Appended as one block so parallel changes merge cleanly.) The relay calls URLs users give it
# (integrator webhooks, later media) only at public addresses; these networks are let through
# anyway, e.g. RELAY_OUTBOUND_ALLOWED_NETWORKS=10.1.2.0/24 for an integrator on the premises.
# Comma-separated CIDRs (a bare address is one host); empty by default.
RELAY_OUTBOUND_ALLOWED_NETWORKS: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
for _network in env.items("RELAY_OUTBOUND_ALLOWED_NETWORKS"):
    try:
        RELAY_OUTBOUND_ALLOWED_NETWORKS.append(ipaddress.ip_network(_network, strict=True))
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"RELAY_OUTBOUND_ALLOWED_NETWORKS: {_network!r} is not a network like 10.1.2.0/24 "
            f"({_error})"
        ) from None

# --- Error pages and sessions (templates/4xx.html, 500.html, config/errors.py) ----------------
# (Appended as one block so parallel changes merge cleanly.) A failed CSRF check explains itself
# in the user's language and offers the way back; on the log-in form it redirects instead.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
# --- Notifications for sellers away from the inbox (relay/services/notifications.py) ----------
# (Appended as one block so parallel changes merge cleanly.) A seller who wants e-mail gets one
# when a buyer opens a conversation, and one per seller for buyer messages still unread after
# this many minutes (checked every minute by beat).
RELAY_NOTIFY_UNREAD_MINUTES = env.integer("RELAY_NOTIFY_UNREAD_MINUTES", 15, minimum=1)
CELERY_BEAT_SCHEDULE["notify-unread"] = {"task": "relay.notify_unread", "schedule": 60.0}
# --- Times in the seller's time zone (contacts/time_zones.py, contacts/middleware.py) -----------
# (Appended as one block so parallel changes merge cleanly.) Rows stay in UTC (TIME_ZONE, USE_TZ);
# pages show times in the reader's zone: their own choice on the Channels page, else this one
# (an IANA name). Buyers on the web chat and anyone logged out see this default too.
RELAY_DEFAULT_USER_TIME_ZONE = env.text("RELAY_DEFAULT_USER_TIME_ZONE", "Asia/Jakarta")
try:
    import zoneinfo as _zoneinfo

    _zoneinfo.ZoneInfo(RELAY_DEFAULT_USER_TIME_ZONE)
except (ValueError, _zoneinfo.ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        f"RELAY_DEFAULT_USER_TIME_ZONE: {RELAY_DEFAULT_USER_TIME_ZONE!r} is not a time zone name "
        "like Asia/Jakarta"
    ) from None
# After AuthenticationMiddleware: the zone is the logged-in user's.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "contacts.middleware.TimeZoneMiddleware",
)
# --- The demo's phones for new sellers (contacts/demo_phones.py; issue #14) -------------------
# (Appended as one block so parallel changes merge cleanly.) In `make run` a seller who signs up
# gets a simulated WhatsApp number and Instagram account on the sandbox's phones page, connected
# to their account. On by default only in the demo (DEBUG with PLATFORM_SANDBOX_URL); never on
# without the sandbox, since the numbers are made up.
DEMO_SELLER_PHONES = env.flag("DEMO_SELLER_PHONES", DEBUG and bool(PLATFORM_SANDBOX_URL))
# /api/docs: Swagger UI without deep links. With them, each operation's summary (a <button>)
# holds a link to itself, a control inside a control that screen readers and keyboards cannot
# tell apart (axe's nested-interactive, serious; tests/browser/test_accessibility.py).
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": False}
# --- Photos: chat media and listing photos (relay/services/media.py; issue #16) ---------------
# (Appended as one block so parallel changes merge cleanly.) Two storage aliases of Django's
# storage API. Chat media is sealed under the conversation key before it reaches the storage,
# so any backend holds ciphertext only; listing photos are public and stored cleaned, in the
# clear. Defaults: folders under var/. In production any Django storage backend works, e.g.
# S3-compatible storage through django-storages (README, "Photos").
RELAY_MEDIA_ROOT = Path(env.text("RELAY_MEDIA_ROOT", str(VAR_DIR / "media")))
MARKETPLACE_PHOTO_ROOT = Path(env.text("MARKETPLACE_PHOTO_ROOT", str(VAR_DIR / "listing-photos")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "relay_media": {
        "BACKEND": env.text(
            "RELAY_MEDIA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {"location": str(RELAY_MEDIA_ROOT)}
        if not env.is_set("RELAY_MEDIA_STORAGE_BACKEND")
        else {},
    },
    "listing_photos": {
        "BACKEND": env.text(
            "MARKETPLACE_PHOTO_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {"location": str(MARKETPLACE_PHOTO_ROOT)}
        if not env.is_set("MARKETPLACE_PHOTO_STORAGE_BACKEND")
        else {},
    },
}
# --- Photos: limits and report evidence (relay/services/limits.py, moderation.py; issue #16) --
# (Appended as one block so parallel changes merge cleanly.) Photos one sender may send in an
# hour on all roads together (each photo of a message counts), and how many of the reported
# side's latest photos a report seals as evidence (each re-encoded at most 1,024 px).
RELAY_LIMIT_MEDIA_PER_HOUR = env.integer("RELAY_LIMIT_MEDIA_PER_HOUR", 30, minimum=1)
RELAY_REPORT_EVIDENCE_PHOTOS = env.integer("RELAY_REPORT_EVIDENCE_PHOTOS", 3, minimum=0)
# The options of a RELAY_MEDIA_STORAGE_BACKEND other than the default, as one JSON object, e.g.
# {"bucket_name": "perantara-media", "endpoint_url": "https://s3.example.com"} for
# django-storages' S3Storage. Its credentials come from boto3's own AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (or an instance role), never from this variable.
if env.is_set("RELAY_MEDIA_STORAGE_OPTIONS"):
    import json as _json

    try:
        _media_options = _json.loads(env.text("RELAY_MEDIA_STORAGE_OPTIONS"))
    except ValueError:
        _media_options = None
    if not isinstance(_media_options, dict):
        raise ImproperlyConfigured(
            'RELAY_MEDIA_STORAGE_OPTIONS must be a JSON object like {"bucket_name": "perantara-'
            'media"}'
        )
    STORAGES["relay_media"] = {
        "BACKEND": env.text(
            "RELAY_MEDIA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": _media_options,
    }
# --- Photos from the browser: web chat, web inbox, listings (issue #16, media-web) ------------
# (Appended as one block so parallel changes merge cleanly.) Uploads go to a temporary file
# through a handler that keeps at most one photo's worth (marketplace/uploads.py), so a view can
# refuse an oversize file in words and the disk never holds more. A form carries at most 8
# photos (a listing's cap); a few more are counted so the page, not Django, says "at most 8".
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "marketplace.uploads.CappedUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FILES = 16
# Listing photos are public and never change under their random name: browsers and proxies
# may keep them this long (a deleted photo's address stops answering at once on the server).
MARKETPLACE_PHOTO_CACHE_SECONDS = env.integer(
    "MARKETPLACE_PHOTO_CACHE_SECONDS", 30 * 24 * 3600, minimum=0
)
# --- Web ↔ web end to end (relay/services/e2ee.py, static/e2ee.js; issue #15) ----------------
# (Appended as one block so parallel changes merge cleanly.) An envelope carries the message
# once and its content key wrapped to every live device of both sides (about 150 bytes each),
# so the limit bounds what one post can make the server store; a participant keeps at most
# RELAY_E2EE_MAX_DEVICES live device keys (a new one beyond that retires the oldest).
RELAY_E2EE_MAX_ENVELOPE_BYTES = env.integer("RELAY_E2EE_MAX_ENVELOPE_BYTES", 65536, minimum=4096)
RELAY_E2EE_MAX_DEVICES = env.integer("RELAY_E2EE_MAX_DEVICES", 10, minimum=1)
# --- Photos across the platforms: downloads, signed links (relay/services/media_fetch.py) -----
# (Appended as one block so parallel changes merge cleanly.) A photo a person sends on a platform
# is downloaded by a task within this total time (connect, answer and every byte), tried this
# often when the platform is briefly unreachable; the public links the relay serves for Twilio
# MMS and Instagram (and the photo page for SMS numbers MMS cannot reach) expire after
# RELAY_MEDIA_LINK_SECONDS.
RELAY_MEDIA_FETCH_SECONDS = env.number("RELAY_MEDIA_FETCH_SECONDS", 20.0, minimum=1.0)
RELAY_MEDIA_FETCH_ATTEMPTS = env.integer("RELAY_MEDIA_FETCH_ATTEMPTS", 3, minimum=1)
RELAY_MEDIA_LINK_SECONDS = env.integer("RELAY_MEDIA_LINK_SECONDS", 3600, minimum=60)
# The sandbox serves its media downloads from its own address (loopback in `make run`), which
# the URL guard refuses like any private address; in the demo that one host is let through.
if DEBUG and PLATFORM_SANDBOX_URL:
    _sandbox_host = urlsplit(PLATFORM_SANDBOX_URL).hostname or ""
    try:
        if ipaddress.ip_address(_sandbox_host).is_loopback:
            RELAY_OUTBOUND_ALLOWED_NETWORKS.append(ipaddress.ip_network(_sandbox_host))
    except ValueError:
        pass  # a host name: the guard judges what it resolves to
# --- Throughput: fewer round trips per message (issue #17) ------------------------------------
# (Appended as one block so parallel changes merge cleanly.) CONN_HEALTH_CHECKS' `SELECT 1` is
# skipped on a connection whose thread's last request or task ended with it healthy less than
# this many seconds ago (config/db_reuse.py); 0 checks before every request and task again.
DB_HEALTH_CHECK_SKIP_SECONDS = env.number("DB_HEALTH_CHECK_SKIP_SECONDS", 1.0, minimum=0.0)
