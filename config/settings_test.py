"""Settings for the test suite: the production settings with test keys and the sandbox on.

The suite runs with DEBUG off, as production does, so it cannot use DEMO_KEYS (refused without
DEBUG): it passes fixed test keys of its own through the same variables an operator sets. They are
fixed, not random, because the Celery worker and the other processes a test starts must open what
the test sealed.

Everything else (DATABASE_URL, CELERY_BROKER_URL) still comes from the environment, so CI runs
the suite against PostgreSQL and Redis and a bare machine against SQLite and the file broker.
"""

import ipaddress
import os

from config.public_keys import derive_b64, secret_key

TESTS = b"perantara-tests"


def _test_key(purpose: str) -> str:
    return derive_b64(TESTS, purpose)


os.environ.setdefault("SECRET_KEY", secret_key(TESTS))
os.environ.setdefault("RELAY_KEYRING", "test1:" + _test_key("keyring-test1"))
os.environ.setdefault("RELAY_INDEX_KEY", _test_key("blind-index"))
os.environ.setdefault("RELAY_MODERATION_KEYS", "m1:" + _test_key("moderation"))
os.environ.setdefault("VERIFICATION_SHOW_CODE", "0")
# Platform credentials are the sandbox's; tests point the API base at their own sandbox.
os.environ.setdefault("PLATFORM_SANDBOX_URL", "http://127.0.0.1:9")
os.environ.setdefault(
    "PERANTARA_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test")
)

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    **STORAGES,  # noqa: F405 - the media aliases, under PERANTARA_VAR_DIR
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The integrator webhook tests POST to receivers on loopback; tests of the SSRF guard set this
# back to [] (tests/api/test_ssrf.py).
RELAY_OUTBOUND_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1")]
