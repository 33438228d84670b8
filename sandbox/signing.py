"""Webhook signatures computed exactly as the platforms compute them (PLATFORMS.md B.2, B.5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def meta_signature(secret: str, body: bytes) -> str:
    """Return the `X-Hub-Signature-256` value: "sha256=" + hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str | list[str]]) -> str:
    """Return the `X-Twilio-Signature` value for a form POST to `url`.

    The signed string is the URL followed by name+value of every parameter, names sorted and,
    for repeated names, values sorted (as twilio-python's RequestValidator does).
    """
    pieces = [url]
    for name in sorted(params):
        value = params[name]
        values = sorted(value) if isinstance(value, list) else [value]
        pieces.extend(name + item for item in values)
    digest = hmac.new(
        auth_token.encode("utf-8"), "".join(pieces).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")
