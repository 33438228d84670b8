"""Message bodies: a random data key per conversation, wrapped under the key ring.

A body is XChaCha20-Poly1305 under the conversation key with the message uid as associated
data, so a ciphertext copied onto another row does not open. Deleting the wrapped key
(crypto-shredding) makes every body of the conversation unreadable.
"""

from __future__ import annotations

import uuid

from nacl import bindings
from nacl.utils import random as random_bytes

from contacts import vault

KEY_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class BodyUnreadable(Exception):
    """The body's key was shredded, or the ciphertext does not belong to this message."""


def provider_key(provider_id: str) -> str:
    """How a platform's message id is stored: a keyed hash, never the id itself.

    WhatsApp message ids embed the sender's phone number (base64), so the raw id would be a
    plaintext number at rest. Dedupe, reply context and status lookups only need equality.
    """
    return vault.blind_index(provider_id, purpose="provider-message-id")


def _wrap_aad(conversation_code: str) -> bytes:
    return f"conversation-key:{conversation_code}".encode()


def new_wrapped_key(conversation_code: str) -> bytes:
    return vault.seal(random_bytes(KEY_BYTES), aad=_wrap_aad(conversation_code))


def unwrap_key(wrapped: bytes | memoryview | None, conversation_code: str) -> bytes:
    if wrapped is None:
        raise BodyUnreadable("the conversation's key has been shredded")
    try:
        return vault.open_sealed(wrapped, aad=_wrap_aad(conversation_code))
    except vault.VaultError as error:
        raise BodyUnreadable("the conversation key does not open") from error


def rewrap_key(wrapped: bytes | memoryview, conversation_code: str) -> bytes:
    """The same data key sealed under the current key ring id (for rotation)."""
    return vault.seal(unwrap_key(wrapped, conversation_code), aad=_wrap_aad(conversation_code))


def encrypt_body(key: bytes, message_uid: uuid.UUID, text: str) -> bytes:
    nonce = random_bytes(NONCE_BYTES)
    sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        text.encode(), message_uid.bytes, nonce, key
    )
    return nonce + sealed


def decrypt_body(key: bytes, message_uid: uuid.UUID, blob: bytes | memoryview) -> str:
    blob = bytes(blob)
    try:
        plain = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            blob[NONCE_BYTES:], message_uid.bytes, blob[:NONCE_BYTES], key
        )
    except Exception as error:
        raise BodyUnreadable("the body does not open for this message") from error
    return bytes(plain).decode()


def encrypt_bytes(key: bytes, aad_uid: uuid.UUID, data: bytes) -> bytes:
    """Like encrypt_body, for bytes (a photo, a file name)."""
    nonce = random_bytes(NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        data, aad_uid.bytes, nonce, key
    )


def decrypt_bytes(key: bytes, aad_uid: uuid.UUID, blob: bytes | memoryview) -> bytes:
    blob = bytes(blob)
    try:
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                blob[NONCE_BYTES:], aad_uid.bytes, blob[:NONCE_BYTES], key
            )
        )
    except Exception as error:
        raise BodyUnreadable("the data does not open for this row") from error
