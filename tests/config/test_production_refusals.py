"""Production refuses what would make it unsafe: public keys, demo accounts, a proxy it cannot see.

Each test runs the real settings module in a fresh process, as gunicorn or a worker would start.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from nacl.public import PrivateKey

from contacts.models import User

ROOT = Path(__file__).resolve().parents[2]
KEY = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="  # base64 of 32 bytes, not one of ours
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-" + "x" * 20,
    "RELAY_KEYRING": f"k1:{KEY}",
    "RELAY_INDEX_KEY": KEY,
    "RELAY_MODERATION_KEYS": f"m1:{KEY}",
    "ALLOWED_HOSTS": "relay.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def run(args: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RELAY_", "SECRET_KEY", "DEBUG", "DEMO_KEYS", "TRUST_PROXY"))
    }
    env.update({**PRODUCTION, **extra})
    env = {k: v for k, v in env.items() if v != ""}  # "" = not set at all
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_demo_keys_stop_production_start_up_naming_the_variable() -> None:
    result = run(["-c", "import django; django.setup()"], DEMO_KEYS="1")
    assert result.returncode != 0
    assert "DEMO_KEYS=1 is refused with DEBUG=0" in result.stderr
    assert "generate_keys" in result.stderr


def test_demo_keys_still_run_the_demo_with_debug() -> None:
    result = run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEMO_KEYS)",
        ],
        DEBUG="1",
        DEMO_KEYS="1",
        SECRET_KEY="",
        RELAY_KEYRING="",
        RELAY_INDEX_KEY="",
        RELAY_MODERATION_KEYS="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def _public(person: bytes, purpose: str) -> str:
    digest = hashlib.blake2b(purpose.encode(), digest_size=32, person=person).digest()
    return base64.b64encode(digest).decode()


def _public_half(person: bytes, purpose: str) -> str:
    private = hashlib.blake2b(purpose.encode(), digest_size=32, person=person).digest()
    return base64.b64encode(bytes(PrivateKey(private).public_key)).decode()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RELAY_INDEX_KEY", _public(b"perantara-tests", "blind-index")),
        ("RELAY_KEYRING", "k1:" + _public(b"perantara-demo", "keyring-demo1")),
        ("RELAY_MODERATION_KEYS", "m1:" + _public(b"perantara-bench", "moderation")),
    ],
)
def test_check_deploy_fails_on_a_key_this_repository_publishes(variable: str, value: str) -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **{variable: value})
    assert result.returncode != 0
    assert f"{variable}" in result.stderr + result.stdout
    assert "perantara.E002" in result.stderr + result.stdout


def test_check_deploy_fails_on_a_sealing_only_node_given_a_published_public_half() -> None:
    """A worker holds public halves only: one derived from a published key would seal report
    evidence that anyone can open."""
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        RELAY_MODERATION_KEYS="",
        RELAY_MODERATION_PUBLIC_KEYS="m1:" + _public_half(b"perantara-tests", "moderation"),
    )
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "RELAY_MODERATION_PUBLIC_KEYS (m1) is one of this repository's public keys" in output


def test_the_test_suites_own_settings_fail_check_deploy() -> None:
    """The suite's fixed keys are public too: a copy of config/settings_test.py in production
    is caught."""
    result = run(
        ["manage.py", "check", "--deploy"],
        DJANGO_SETTINGS_MODULE="config.settings_test",
        SECRET_KEY="",
        RELAY_KEYRING="",
        RELAY_INDEX_KEY="",
        RELAY_MODERATION_KEYS="",
    )
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "SECRET_KEY is one of this repository's public keys" in output
    assert "RELAY_KEYRING (test1) is one of this repository's public keys" in output


def _is_secure(**extra: str) -> str:
    code = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "request = RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https')\n"
        "print(request.is_secure())\n"
    )
    result = run(["-c", code], ALLOWED_HOSTS="testserver", **extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_forwarded_proto_header_is_believed_only_behind_a_named_proxy() -> None:
    # gunicorn on 0.0.0.0 with no proxy: any client could send the header.
    assert _is_secure() == "False"
    assert _is_secure(TRUST_PROXY="1") == "True"


def test_forwarded_host_without_a_trusted_proxy_stops_start_up() -> None:
    result = run(["-c", "import django; django.setup()"], USE_X_FORWARDED_HOST="1")
    assert result.returncode != 0
    assert "USE_X_FORWARDED_HOST=1 needs TRUST_PROXY=1" in result.stderr


@pytest.mark.django_db
def test_seed_demo_refuses_to_create_demo_accounts_without_debug(settings: object) -> None:
    with pytest.raises(CommandError, match="runs only with DEBUG=1"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.filter(username__in=["sari", "moderator"]).exists()


@pytest.mark.django_db
def test_seed_demo_identities_only_creates_no_account() -> None:
    from relay.models import RelayIdentity

    call_command("seed_demo", identities_only=True, stdout=io.StringIO())
    assert RelayIdentity.objects.exists()
    assert not User.objects.exists()
