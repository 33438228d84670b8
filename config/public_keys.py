"""Keys derived from this repository's source: for the demo, the test suite and the bench only.

Anyone can compute them, so nothing real may be sealed under them: `DEMO_KEYS` is refused
without DEBUG (config/settings.py) and `check --deploy` refuses every key listed here
(config/checks.py). One derivation and one table, so a family or purpose added here is covered
by the check too. No Django import: config/settings_test.py uses it before settings load.
"""

from __future__ import annotations

import base64
import hashlib

# family (BLAKE2b person) -> the purposes keys are derived for in that family
FAMILIES: dict[bytes, tuple[str, ...]] = {
    b"perantara-demo": ("secret-key", "keyring-demo1", "blind-index", "moderation"),
    b"perantara-tests": ("secret-key", "keyring-test1", "blind-index", "moderation"),
    b"perantara-bench": ("secret-key", "keyring", "blind-index", "moderation"),
}
SECRET_KEY_PREFIXES = {
    b"perantara-demo": "demo-only-",
    b"perantara-tests": "tests-only-",
    b"perantara-bench": "bench-only-",
}


def derive(family: bytes, purpose: str) -> bytes:
    assert purpose in FAMILIES[family], (family, purpose)
    return hashlib.blake2b(purpose.encode(), digest_size=32, person=family).digest()


def derive_b64(family: bytes, purpose: str) -> str:
    """`derive` in the base64 form the *_KEY variables take."""
    return base64.b64encode(derive(family, purpose)).decode()


def secret_key(family: bytes) -> str:
    """The SECRET_KEY string of a family (the demo's uses hex, the others base64)."""
    if family == b"perantara-demo":
        return SECRET_KEY_PREFIXES[family] + derive(family, "secret-key").hex()
    return SECRET_KEY_PREFIXES[family] + derive_b64(family, "secret-key")


def all_keys() -> set[bytes]:
    return {
        derive(family, purpose) for family, purposes in FAMILIES.items() for purpose in purposes
    }


def all_secret_keys() -> set[str]:
    return {secret_key(family) for family in FAMILIES}
