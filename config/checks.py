"""Deploy checks (`manage.py check --deploy`): keys anyone can read must never reach production.

DEMO_KEYS is already refused at start-up without DEBUG (config/settings.py). These checks catch
the other road to the same mistake: an operator pasting a key that is derivable from this
repository (the demo's, the test suite's or the bench's) into the environment.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from nacl.public import PrivateKey

from config import public_keys as published


def public_keys() -> set[bytes]:
    """Every key this repository's source derives, in any of its families."""
    return published.all_keys()


def _configured_keys() -> Iterable[tuple[str, bytes]]:
    for key_id, key in settings.RELAY_KEYRING.items():
        yield f"RELAY_KEYRING ({key_id})", bytes(key)
    yield "RELAY_INDEX_KEY", bytes(settings.RELAY_INDEX_KEY)
    for key_id, key in settings.RELAY_MODERATION_KEYS.items():
        yield f"RELAY_MODERATION_KEYS ({key_id})", bytes(key)
    # A sealing-only process holds public halves: one derived from a public key seals evidence
    # that anyone can open.
    for key_id, key in settings.RELAY_MODERATION_PUBLIC_KEYS.items():
        yield f"RELAY_MODERATION_PUBLIC_KEYS ({key_id})", bytes(key)


@register(Tags.security, deploy=True)
def keys_are_not_public(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.DEMO_KEYS:
        errors.append(
            Error(
                "DEMO_KEYS=1: every key is derived from public source code.",
                hint="Unset DEMO_KEYS and set the keys printed by `manage.py generate_keys`.",
                id="perantara.E001",
            )
        )
    known = public_keys()
    known |= {bytes(PrivateKey(key).public_key) for key in known}
    secret = str(settings.SECRET_KEY)
    if secret in published.all_secret_keys():
        errors.append(
            Error("SECRET_KEY is one of this repository's public keys.", id="perantara.E002")
        )
    for name, key in _configured_keys():
        if key in known:
            errors.append(
                Error(
                    f"{name} is one of this repository's public keys (demo, tests or bench).",
                    hint="Generate fresh keys with `manage.py generate_keys`.",
                    id="perantara.E002",
                )
            )
    return errors
