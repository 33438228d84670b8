"""Report evidence crypto: a key pair per report, its private half wrapped to the moderation key.

Each report gets a random X25519 key pair (the report key). Its private half is stored wrapped:
a SealedBox to the public half of the current moderation key, prefixed with that key's id
(`0x02 | len(id) | id | sealed box`), so rotation knows what to re-wrap. Its public half is
stored as it is.

A field (evidence, the reporter's note, a moderator's note, a legal hold's reason) is sealed to
the report's *public* key: an ephemeral X25519 exchange gives a one-off XChaCha20-Poly1305 key,
and the associated data names the report and the field, so a ciphertext moved to another
report or another column does not open. Sealing to a public key (rather than under a shared
symmetric data key) is what lets a process that holds only the moderation public keys, such as
a Celery worker adding the reporter's note to an existing report, seal without ever being able
to read. Opening needs the report's private half, which needs a moderation private key.

Shredding deletes the wrapped private half: nothing, with any key, opens the fields afterwards.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.utils import random as random_bytes

WRAP_VERSION = 2
FIELD_VERSION = 1
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
KEY_BYTES = 32


class EvidenceError(Exception):
    """Base of what can go wrong opening report evidence."""


class EvidenceShredded(EvidenceError):
    """The report's key was shredded (retention or erasure): its fields are gone for good."""


class EvidenceUnreadable(EvidenceError):
    """A blob does not open: tampered, moved from another report, or not one of ours."""


class ModerationKeyMissing(EvidenceError):
    """This process holds no private half for the moderation key a report is wrapped to."""


def current_moderation_key_id() -> str:
    return str(settings.RELAY_MODERATION_KEY_CURRENT)


def _public_key(key_id: str) -> PublicKey:
    public_keys: dict[str, bytes] = settings.RELAY_MODERATION_PUBLIC_KEYS
    if key_id not in public_keys:
        raise ModerationKeyMissing(f"moderation key {key_id!r} is not configured")
    return PublicKey(public_keys[key_id])


def _private_key(key_id: str) -> PrivateKey:
    private_keys: dict[str, bytes] = settings.RELAY_MODERATION_KEYS
    if key_id not in private_keys:
        raise ModerationKeyMissing(
            f"this process holds no private half of moderation key {key_id!r}: report "
            "evidence opens only in processes given RELAY_MODERATION_KEYS (the web processes "
            "serving the moderation pages and API, and rotate_moderation_key)"
        )
    return PrivateKey(private_keys[key_id])


def new_report_key() -> tuple[bytes, bytes]:
    """A fresh report key pair: (private half, public half)."""
    private = PrivateKey.generate()
    return bytes(private), bytes(private.public_key)


def _wrap_plaintext(report_code: str, private_half: bytes) -> bytes:
    # The code inside the box binds the wrapped key to its report.
    return f"report-key:{report_code}\x00".encode() + private_half


def wrap_report_key(private_half: bytes, report_code: str, *, key_id: str | None = None) -> bytes:
    key_id = key_id or current_moderation_key_id()
    box = SealedBox(_public_key(key_id)).encrypt(_wrap_plaintext(report_code, private_half))
    encoded_id = key_id.encode()
    return bytes([WRAP_VERSION, len(encoded_id)]) + encoded_id + bytes(box)


def wrapped_key_id(blob: bytes | memoryview) -> str:
    blob = bytes(blob)
    if len(blob) < 2 or blob[0] != WRAP_VERSION or len(blob) < 2 + blob[1]:
        raise EvidenceUnreadable("not a wrapped report key")
    try:
        return blob[2 : 2 + blob[1]].decode()
    except UnicodeDecodeError:
        raise EvidenceUnreadable("not a wrapped report key") from None


def unwrap_report_key(blob: bytes | memoryview | None, report_code: str) -> bytes:
    """The report's private half. Raises EvidenceShredded, ModerationKeyMissing or
    EvidenceUnreadable."""
    if blob is None:
        raise EvidenceShredded("the report's key has been shredded")
    blob = bytes(blob)
    key_id = wrapped_key_id(blob)
    private = _private_key(key_id)
    try:
        plain = SealedBox(private).decrypt(blob[2 + blob[1] :])
    except CryptoError as error:
        raise EvidenceUnreadable("the report key does not open with its moderation key") from error
    prefix = _wrap_plaintext(report_code, b"")
    if not plain.startswith(prefix) or len(plain) != len(prefix) + KEY_BYTES:
        raise EvidenceUnreadable("the wrapped key belongs to another report")
    return plain[len(prefix) :]


def rewrap_report_key(blob: bytes | memoryview, report_code: str) -> bytes:
    """The same report key wrapped to the current moderation key (rotation)."""
    return wrap_report_key(unwrap_report_key(blob, report_code), report_code)


def _field_aad(report_code: str, field: str) -> bytes:
    return f"report:{report_code}:{field}".encode()


def _field_key(shared: bytes, ephemeral_public: bytes, report_public: bytes) -> bytes:
    return hashlib.blake2b(
        shared + ephemeral_public + report_public, digest_size=KEY_BYTES, person=b"perantara-rpt"
    ).digest()


def seal_field(report_public: bytes, report_code: str, field: str, plaintext: bytes) -> bytes:
    """`0x01 | ephemeral public (32) | nonce (24) | XChaCha20-Poly1305(plaintext)`."""
    ephemeral = PrivateKey.generate()
    ephemeral_public = bytes(ephemeral.public_key)
    shared = bindings.crypto_scalarmult(bytes(ephemeral), report_public)
    key = _field_key(shared, ephemeral_public, report_public)
    nonce = random_bytes(NONCE_BYTES)
    sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, _field_aad(report_code, field), nonce, key
    )
    return bytes([FIELD_VERSION]) + ephemeral_public + nonce + sealed


def open_field(
    report_private: bytes, report_code: str, field: str, blob: bytes | memoryview
) -> bytes:
    blob = bytes(blob)
    if len(blob) < 1 + KEY_BYTES + NONCE_BYTES or blob[0] != FIELD_VERSION:
        raise EvidenceUnreadable("not a sealed report field")
    ephemeral_public = blob[1 : 1 + KEY_BYTES]
    nonce = blob[1 + KEY_BYTES : 1 + KEY_BYTES + NONCE_BYTES]
    report_public = bytes(PrivateKey(report_private).public_key)
    try:
        shared = bindings.crypto_scalarmult(report_private, ephemeral_public)
        key = _field_key(shared, ephemeral_public, report_public)
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                blob[1 + KEY_BYTES + NONCE_BYTES :], _field_aad(report_code, field), nonce, key
            )
        )
    except (CryptoError, RuntimeError) as error:  # RuntimeError: a low-order ephemeral key
        raise EvidenceUnreadable("the field does not open for this report") from error


def open_legacy_sealed_box(blob: bytes | memoryview) -> bytes:
    """A blob sealed before report keys existed (a bare SealedBox to the one moderation key),
    opened with whichever private moderation key fits. For the 0011 data migration."""
    private_keys: dict[str, bytes] = settings.RELAY_MODERATION_KEYS
    for private in private_keys.values():
        try:
            return bytes(SealedBox(PrivateKey(private)).decrypt(bytes(blob)))
        except CryptoError:
            continue
    raise ModerationKeyMissing(
        "no key in RELAY_MODERATION_KEYS (or RELAY_MODERATION_KEY) opens a report sealed "
        "before per-report keys"
    )
