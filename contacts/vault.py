"""The address vault's crypto: authenticated encryption under the key ring, and blind indexes.

Sealed blobs are self-describing: `0x01 | len(key id) | key id | 24-byte nonce | ciphertext`,
XChaCha20-Poly1305 (IETF) with caller-chosen associated data, so a blob names the key that
opens it (rotation re-seals under the current id) and cannot be moved to a row whose
associated data differs.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from nacl import bindings
from nacl.utils import random as random_bytes

VERSION = 1
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class VaultError(Exception):
    """A sealed blob cannot be opened: unknown key id, tampering, or the wrong row."""


def current_key_id() -> str:
    return str(settings.RELAY_KEY_CURRENT)


def seal(plaintext: bytes, *, aad: bytes, key_id: str | None = None) -> bytes:
    key_id = key_id or current_key_id()
    key = settings.RELAY_KEYRING[key_id]
    nonce = random_bytes(NONCE_BYTES)
    ciphertext = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    encoded_id = key_id.encode()
    return bytes([VERSION, len(encoded_id)]) + encoded_id + nonce + ciphertext


def sealed_key_id(blob: bytes | memoryview) -> str:
    blob = bytes(blob)
    if len(blob) < 2 or blob[0] != VERSION:
        raise VaultError("not a sealed blob")
    return blob[2 : 2 + blob[1]].decode()


def open_sealed(blob: bytes | memoryview, *, aad: bytes) -> bytes:
    blob = bytes(blob)
    key_id = sealed_key_id(blob)
    key = settings.RELAY_KEYRING.get(key_id)
    if key is None:
        raise VaultError(f"key {key_id!r} is not in the key ring")
    start = 2 + blob[1]
    nonce, ciphertext = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
    try:
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
        )
    except Exception as error:  # nacl raises CryptoError; keep the message free of data
        raise VaultError("the blob does not open with its key and associated data") from error


def index_key() -> bytes:
    key: bytes = settings.RELAY_INDEX_KEY
    return key


def blind_index(value: str, *, purpose: str = "address") -> str:
    """A keyed BLAKE2b of a normalized value: equal inputs match, the digest reveals nothing."""
    key = index_key()
    digest = hashlib.blake2b(
        f"{purpose}\x00{value}".encode(), key=key, digest_size=32, person=b"perantara-index"
    )
    return digest.hexdigest()


def keyed_hash(value: bytes, *, purpose: str) -> str:
    """HMAC-SHA256 under a key derived from the index key, for codes and duplicate detection."""
    key = hashlib.blake2b(purpose.encode(), key=index_key(), digest_size=32).digest()
    return hmac.new(key, value, hashlib.sha256).hexdigest()
