"""A second implementation of static/e2ee.js's envelope, in Python (test-only: `cryptography`).

It follows the byte layout documented in the script's header, so a browser opens what this
seals (the browser tests inject tampered, miscommitted and replayed messages made here) and
this opens what a browser sealed (the server tests check envelopes a browser would post).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

WRAP_INFO = b"perantara-e2ee-v1 wrap"
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


@dataclass
class Device:
    private: X25519PrivateKey

    @classmethod
    def new(cls) -> Device:
        return cls(X25519PrivateKey.generate())

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(*RAW)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)


def commitment(franking_key: bytes, message: str) -> bytes:
    return hmac.new(franking_key, b"frank-v1" + message.encode(), hashlib.sha256).digest()


def _kek(shared: bytes, epk: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=epk + recipient, info=WRAP_INFO).derive(shared)


def _wrap(content_key: bytes, public: bytes) -> dict[str, str]:
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(*RAW)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    iv = os.urandom(12)
    aad = b"perantara-wrap-v1" + fingerprint(public).encode()
    wrapped = AESGCM(_kek(shared, epk, public)).encrypt(iv, content_key, aad)
    return {"d": fingerprint(public), "epk": b64(epk), "iv": b64(iv), "wk": b64(wrapped)}


def seal(
    message: str,
    *,
    to: list[bytes],
    conversation: str,
    nonce: bytes | None = None,
    claimed_commitment: bytes | None = None,
    franking_key: bytes | None = None,
) -> tuple[str, str]:
    """(envelope JSON, base64 commitment), as the browser posts them. `claimed_commitment`
    makes a cheating sender: the AEAD binds it, but it is not HMAC(k_f, m); so does a
    `franking_key` that is not 32 bytes (HMAC takes it, the relay's report check does not)."""
    franking_key = os.urandom(32) if franking_key is None else franking_key
    c = claimed_commitment or commitment(franking_key, message)
    inner = json.dumps(
        {
            "v": 1,
            "m": message,
            "kf": b64(franking_key),
            "n": b64(nonce or os.urandom(16)),
            "conv": conversation,
        }
    ).encode()
    content_key, iv = os.urandom(32), os.urandom(12)
    ct = AESGCM(content_key).encrypt(iv, inner, c)
    envelope = {
        "v": 1,
        "alg": "X25519-HKDF-SHA256-A256GCM",
        "iv": b64(iv),
        "ct": b64(ct),
        "keys": [_wrap(content_key, public) for public in to],
    }
    return json.dumps(envelope), b64(c)


def open_envelope(envelope: str, commitment_b64: str, device: Device) -> dict[str, str]:
    """The inner plaintext for `device`, as the browser opens it (raises if it does not open)."""
    data = json.loads(envelope)
    [entry] = [k for k in data["keys"] if k["d"] == device.fingerprint]
    epk = base64.b64decode(entry["epk"])
    shared = device.private.exchange(X25519PublicKey.from_public_bytes(epk))
    aad = b"perantara-wrap-v1" + device.fingerprint.encode()
    kek = _kek(shared, epk, device.public)
    content_key = AESGCM(kek).decrypt(
        base64.b64decode(entry["iv"]), base64.b64decode(entry["wk"]), aad
    )
    c = base64.b64decode(commitment_b64)
    inner = AESGCM(content_key).decrypt(
        base64.b64decode(data["iv"]), base64.b64decode(data["ct"]), c
    )
    opened: dict[str, str] = json.loads(inner)
    return opened
