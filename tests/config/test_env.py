"""Settings are parsed strictly: a malformed value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env, parse_database_url

ROOT = Path(__file__).resolve().parents[2]
KEY = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="  # base64 of 32 bytes


@pytest.mark.parametrize(
    ("method", "value", "message"),
    [
        ("flag", "maybe", "FLAG must be a boolean"),
        ("integer", "ten", "FLAG must be a whole number"),
        ("keyring", "k1", "FLAG must look like"),
        ("keyring", "k1:not-base64!", "is not valid base64"),
        ("keyring", "k1:aGVsbG8=", "must decode to 32 bytes"),
        ("database", "mysql://x/y", "FLAG must start with postgres:// or sqlite:///"),
    ],
)
def test_a_malformed_value_names_the_variable(method: str, value: str, message: str) -> None:
    env = Env({"FLAG": value})
    with pytest.raises(ImproperlyConfigured, match=message):
        if method == "database":
            env.database("FLAG", "sqlite:///x")
        else:
            getattr(env, method)("FLAG", *([0] if method == "integer" else []))


def test_well_formed_values_parse() -> None:
    env = Env({"ON": "yes", "N": "42", "RING": f"k1:{KEY},k2:{KEY}"})
    assert env.flag("ON") is True
    assert env.integer("N", 0) == 42
    assert set(env.keyring("RING")) == {"k1", "k2"}
    pg = parse_database_url("postgres://bob:s%40cret@db.internal:6543/relay")
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "bob",
        "s@cret",
        "db.internal",
        "6543",
        "relay",
    )
    assert parse_database_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


@pytest.mark.parametrize(("raw", "expected"), [("id", "ID"), (" US ", "US"), (None, "ID")])
def test_a_region_is_a_known_two_letter_code(raw: str | None, expected: str) -> None:
    assert Env({} if raw is None else {"REGION": raw}).region("REGION", "ID") == expected


@pytest.mark.parametrize("raw", ["Indonesia", "XX", "62"])
def test_an_unknown_region_names_the_variable(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="REGION must be a two-letter region code"):
        Env({"REGION": raw}).region("REGION", "ID")


def test_a_bad_default_region_stops_start_up_naming_it() -> None:
    result = run_settings({"DEBUG": "1", "RELAY_DEFAULT_REGION": "Indonesia"})
    assert result.returncode != 0
    assert "RELAY_DEFAULT_REGION must be a two-letter region code" in result.stderr


def run_settings(
    extra: dict[str, str], *, code: str = "import django; django.setup()"
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELAY_", "SECRET_KEY", "DEBUG", "DEMO_KEYS"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **extra})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_the_key_ring() -> None:
    result = run_settings({"SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "RELAY_KEYRING and RELAY_INDEX_KEY must be set" in result.stderr


def test_a_bad_debug_value_stops_start_up_naming_debug() -> None:
    result = run_settings({"DEBUG": "sometimes"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_production_starts_with_its_keys() -> None:
    result = run_settings(
        {
            "SECRET_KEY": "x" * 50,
            "RELAY_KEYRING": f"k1:{KEY}",
            "RELAY_INDEX_KEY": KEY,
            "RELAY_MODERATION_KEY": KEY,
        }
    )
    assert result.returncode == 0, result.stderr


def test_the_documented_production_settings_pass_check_deploy() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELAY_", "SECRET_KEY", "DEBUG", "DEMO_KEYS"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-" + "x" * 20,
            "RELAY_KEYRING": f"k1:{KEY}",
            "RELAY_INDEX_KEY": KEY,
            "RELAY_MODERATION_KEY": KEY,
            "ALLOWED_HOSTS": "relay.example.com",
            "SECURE_SSL_REDIRECT": "1",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "SECURE_HSTS_PRELOAD": "1",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- DATABASE_URL options, typed (issue #17) --------------------------------------------------


def test_database_url_options_become_typed_options_and_settings() -> None:
    pg = parse_database_url(
        "postgres://u@h/db?server_side_binding=true&prepare_threshold=5"
        "&conn_max_age=600&conn_health_checks=false&sslmode=require&connect_timeout=3"
    )
    assert pg["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "sslmode": "require",
        "connect_timeout": 3,
    }
    assert (pg["CONN_MAX_AGE"], pg["CONN_HEALTH_CHECKS"]) == (600, False)
    # psycopg never prepares with `none`; server-side binding stays on unless set off
    assert parse_database_url("postgres://h/db?prepare_threshold=none")["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": None,
    }
    assert parse_database_url("postgres://h/db?server_side_binding=false")["OPTIONS"] == {
        "server_side_binding": False
    }
    # No query: PostgreSQL plans each hot statement once (prepared after 5 runs), issue #17
    plain = parse_database_url("postgres://h/db")
    assert plain["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert "CONN_MAX_AGE" not in plain
    assert parse_database_url("postgres://h/db?prepare_threshold=20")["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": 20,
    }
    lite = parse_database_url("sqlite:////tmp/x.sqlite3?conn_max_age=0")
    assert lite["CONN_MAX_AGE"] == 0 and lite["OPTIONS"] == {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://h/db?server_side_bindings=true", "unknown option 'server_side_bindings'"),
        ("postgres://h/db?server_side_binding=maybe", "server_side_binding must be a boolean"),
        ("postgres://h/db?prepare_threshold=-1", "prepare_threshold must be a whole number"),
        ("postgres://h/db?conn_max_age=ten", "conn_max_age must be a whole number"),
        ("postgres://h/db?conn_health_checks=", "conn_health_checks must be a boolean"),
        ("postgres://h/db?sslmode=sometimes", "sslmode must be one of disable"),
        ("sqlite:////tmp/x.sqlite3?server_side_binding=true", "unknown option .* for sqlite"),
        # psycopg never prepares through Django's client-side binding cursor: a silent no-op
        (
            "postgres://h/db?server_side_binding=false&prepare_threshold=5",
            "prepare_threshold takes effect only with",
        ),
    ],
)
def test_a_bad_database_url_option_is_refused_naming_it(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"DATABASE_URL: .*{message}"):
        parse_database_url(url)


def test_the_url_sets_the_connection_settings_and_a_conflicting_conn_max_age_is_refused() -> None:
    url = "postgres://u@127.0.0.1:1/db?conn_max_age=5&conn_health_checks=off"
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CONN_MAX_AGE", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", DATABASE_URL=url)
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.stdout.split() == ["5", "False"], shown.stderr
    refused = run_settings({"DEBUG": "1", "DATABASE_URL": url, "CONN_MAX_AGE": "60"})
    assert refused.returncode != 0
    assert "CONN_MAX_AGE and DATABASE_URL's conn_max_age disagree" in refused.stderr
