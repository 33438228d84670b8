"""Sealing to the moderation key: only the moderation service can open evidence and notes."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from nacl.public import PrivateKey, PublicKey, SealedBox


def _private_key() -> PrivateKey:
    return PrivateKey(bytes(settings.RELAY_MODERATION_KEY))


def public_key() -> PublicKey:
    return _private_key().public_key


def seal_for_moderation(payload: Any) -> bytes:
    return bytes(SealedBox(public_key()).encrypt(json.dumps(payload).encode()))


def open_for_moderation(blob: bytes | memoryview | None) -> Any:
    if not blob:
        return None
    return json.loads(SealedBox(_private_key()).decrypt(bytes(blob)))
