"""Strict parsing of environment variables.

A malformed value stops start-up with an `ImproperlyConfigured` naming the variable, so an
operator never runs with a setting silently replaced by a default.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

import phonenumbers
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def is_set(self, name: str) -> bool:
        return name in self.environ

    def text(self, name: str, default: str = "") -> str:
        return self.environ.get(name, default).strip()

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.environ.get(name)
        if raw is None:
            return default
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(
            f"{name} must be a boolean (one of 1/0, true/false, yes/no, on/off), got {raw!r}"
        )

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        raw = self.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
        return value

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        raw = self.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = float(raw.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
        return value

    def items(self, name: str, default: list[str] | None = None) -> list[str]:
        raw = self.environ.get(name)
        if raw is None:
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def region(self, name: str, default: str) -> str:
        """A two-letter region code libphonenumber knows (ID, US, MY, ...), upper-cased."""
        value = self.text(name, default).upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ImproperlyConfigured(
                f"{name} must be a two-letter region code such as ID or US, got {value!r}"
            )
        return value

    def database(self, name: str, default: str) -> dict[str, object]:
        return parse_database_url(self.text(name, default) or default, variable=name)

    def keyring(self, name: str) -> dict[str, bytes]:
        """Parse `id:base64key,id2:base64key` into {id: 32-byte key}."""
        raw = self.text(name)
        if not raw:
            return {}
        ring: dict[str, bytes] = {}
        for item in raw.split(","):
            key_id, sep, encoded = item.strip().partition(":")
            if not sep or not key_id or not encoded:
                raise ImproperlyConfigured(
                    f"{name} must look like 'k1:<base64 of 32 bytes>,k2:...', got an entry "
                    f"without 'id:key'"
                )
            if not key_id.isalnum() or len(key_id) > 16:
                raise ImproperlyConfigured(
                    f"{name}: key id {key_id!r} must be 1-16 letters or digits"
                )
            ring[key_id] = decode_key(encoded, variable=f"{name} (key {key_id})")
        return ring

    def key(self, name: str) -> bytes | None:
        raw = self.text(name)
        return decode_key(raw, variable=name) if raw else None


def decode_key(encoded: str, *, variable: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{variable} is not valid base64") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{variable} must decode to 32 bytes, got {len(key)}")
    return key


def parse_database_url(url: str, *, variable: str = "DATABASE_URL") -> dict[str, object]:
    """Turn `postgres://user:pass@host:port/name` or `sqlite:///path` into DATABASES['default']."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/file.sqlite3 or sqlite:////absolute/file.sqlite3 (SQLAlchemy style).
        name = unquote(parts.path)[1:]
        if parts.netloc or not name:
            raise ImproperlyConfigured(
                f"{variable}: a sqlite URL looks like sqlite:///var/db.sqlite3, got {url!r}"
            )
        _none, connection = database_options(parts.query, variable=variable, engine="sqlite")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
            # A file, not :memory:, so a worker process can share the test database.
            "TEST": {"NAME": name + ".test"},
            **connection,
        }
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"{variable}: PostgreSQL URL needs a database name")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{variable}: the port is not a number") from None
        options, connection = database_options(parts.query, variable=variable, engine="postgres")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            **connection,
        }
    raise ImproperlyConfigured(
        f"{variable} must start with postgres:// or sqlite:///, got scheme {parts.scheme!r}"
    )


# PostgreSQL plans a statement once and reuses it: psycopg binds on the server and prepares a
# statement after it ran this many times on a connection. It cuts PostgreSQL's CPU per relayed
# message by a third (bench/README.md); the whole suite passes with it. Off behind a pooler
# that cannot keep prepared statements (PgBouncer in transaction mode before 1.21, without
# max_prepared_statements): `?prepare_threshold=none`, or `?server_side_binding=false`.
DEFAULT_PREPARE_THRESHOLD = 5


def _prepared_by_default(options: dict[str, object]) -> None:
    """Server-side binding and prepared statements unless the URL says otherwise."""
    options.setdefault("server_side_binding", True)
    if options["server_side_binding"] is True:
        options.setdefault("prepare_threshold", DEFAULT_PREPARE_THRESHOLD)


# DATABASE_URL query parameters, typed. Connection settings become DATABASES keys (both
# engines); the rest are PostgreSQL OPTIONS handed to Django's backend and psycopg.
CONNECTION_SETTINGS = {"conn_max_age": "CONN_MAX_AGE", "conn_health_checks": "CONN_HEALTH_CHECKS"}
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _as_bool(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS - {""}:
        return True
    if word in FALSE_WORDS - {""}:
        return False
    raise ValueError("a boolean (true/false, 1/0, yes/no, on/off)")


def _as_count(value: str) -> int:
    if not value.strip().isdigit():
        raise ValueError("a whole number, 0 or more")
    return int(value)


def _as_threshold(value: str) -> int | None:
    # psycopg prepares a statement after it ran this many times; none (Django's default) never.
    return None if value.strip().lower() == "none" else _as_count(value)


def _as_sslmode(value: str) -> str:
    if value not in SSL_MODES:
        raise ValueError("one of " + ", ".join(SSL_MODES))
    return value


def _as_text(value: str) -> str:
    return value


OPTION_TYPES = {
    "conn_max_age": _as_count,
    "conn_health_checks": _as_bool,
    "server_side_binding": _as_bool,
    "prepare_threshold": _as_threshold,
    "pool": _as_bool,
    "connect_timeout": _as_count,
    "sslmode": _as_sslmode,
    "sslrootcert": _as_text,
    "sslcert": _as_text,
    "sslkey": _as_text,
    "application_name": _as_text,
    "target_session_attrs": _as_text,
    "options": _as_text,
    "assume_role": _as_text,
}


def database_options(
    query: str, *, variable: str, engine: str
) -> tuple[dict[str, object], dict[str, object]]:
    """(OPTIONS, DATABASES keys) from the URL's query, each value parsed to its type.

    An unknown parameter is refused rather than passed on as a string: psycopg would take a
    misspelt one silently, or fail at the first connection far from the setting's name."""
    options: dict[str, object] = {}
    connection: dict[str, object] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        parse = OPTION_TYPES.get(key)
        allowed = CONNECTION_SETTINGS if engine == "sqlite" else OPTION_TYPES
        if parse is None or key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ImproperlyConfigured(
                f"{variable}: unknown option {key!r} for {engine} (known: {known})"
            )
        try:
            value = parse(values[-1])
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{variable}: option {key} must be {error}, got {values[-1]!r}"
            ) from None
        if key in CONNECTION_SETTINGS:
            connection[CONNECTION_SETTINGS[key]] = value
        else:
            options[key] = value
    if engine == "postgres":
        _prepared_by_default(options)
    if (
        options.get("prepare_threshold") is not None
        and options.get("server_side_binding") is not True
    ):
        # Django's default cursor binds on the client, and psycopg never prepares with it.
        raise ImproperlyConfigured(
            f"{variable}: prepare_threshold takes effect only with server_side_binding=true"
        )
    return options, connection
