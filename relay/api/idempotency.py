"""`Idempotency-Key` on POST: the same key and body replay the first response; another body
with the same key is 422.

The record is inserted before the handler runs, in the same transaction, so a concurrent retry
with the same key waits on the unique index and then replays instead of acting twice.

The record keeps only what replaying needs, and none of it readable from the database: the key
as a keyed hash, the request (method, path, body) as a keyed fingerprint, the status, and the
response body sealed (XChaCha20-Poly1305) under a key derived from the client's raw
Idempotency-Key and a server secret. The raw key is never stored, so neither a database dump
nor the server's own keys open a stored response; only the client retrying with its key does.
Fingerprints and key hashes include the user id: two sellers adding the same number do not
leave equal rows behind.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from nacl import bindings
from nacl.utils import random as random_bytes
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from contacts import vault
from relay.api.errors import error_body
from relay.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
Handler = Callable[..., Response]
HEADER_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key and body replays the first response.",
)
SEALED_VERSION = 1
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class ResponseUnreadable(Exception):
    """A stored response does not open: another Idempotency-Key, another row, or tampering."""


# --- What is stored -------------------------------------------------------------------------


def key_hash(*, user_id: int, key: str) -> str:
    return vault.keyed_hash(f"{user_id}\x00{key}".encode(), purpose="idempotency-key")


def request_fingerprint(request: Request, *, user_id: int) -> str:
    """A keyed hash of method, path and canonical body: equal requests match, and the body
    cannot be recovered by hashing candidates without the index key."""
    data: Any = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    canonical = json.dumps(data, sort_keys=True, cls=JSONEncoder, separators=(",", ":"))
    described = f"{user_id}\x00{request.method}\x00{request.path}\x00{canonical}"
    return vault.keyed_hash(described.encode(), purpose="idempotency-request")


def _response_key(*, user_id: int, key: str) -> bytes:
    """The sealing key: BLAKE2b of the raw Idempotency-Key, keyed by a key derived from the
    index key. Not derivable from anything stored (the row holds another hash of the key)."""
    server_key = hashlib.blake2b(
        b"idempotency-response", key=vault.index_key(), digest_size=32
    ).digest()
    return hashlib.blake2b(
        f"{user_id}\x00{key}".encode(),
        key=server_key,
        digest_size=bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
        person=b"perantara-idem",
    ).digest()


def _response_aad(*, record_id: int, user_id: int) -> bytes:
    return f"idempotency-response:{record_id}:{user_id}".encode()


def seal_response(body: Any, *, key: str, record_id: int, user_id: int) -> bytes:
    """The response body as JSON, sealed so that only `key` opens it, and only on this row."""
    plaintext = json.dumps(body, cls=JSONEncoder, separators=(",", ":")).encode()
    nonce = random_bytes(NONCE_BYTES)
    sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext,
        _response_aad(record_id=record_id, user_id=user_id),
        nonce,
        _response_key(user_id=user_id, key=key),
    )
    return bytes([SEALED_VERSION]) + nonce + sealed


def open_response(blob: bytes | memoryview, *, key: str, record_id: int, user_id: int) -> Any:
    blob = bytes(blob)
    if len(blob) < 1 + NONCE_BYTES or blob[0] != SEALED_VERSION:
        raise ResponseUnreadable("not a sealed response")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        plaintext = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed,
            _response_aad(record_id=record_id, user_id=user_id),
            nonce,
            _response_key(user_id=user_id, key=key),
        )
    except Exception as error:  # nacl's CryptoError; the message carries no data
        raise ResponseUnreadable("the response does not open with this key") from error
    return json.loads(plaintext)


# --- Replaying ------------------------------------------------------------------------------


def _reused() -> Response:
    return Response(
        error_body(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
        ),
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _replay(record: IdempotencyRecord, *, key: str, fingerprint: str) -> Response:
    if not hmac.compare_digest(record.request_fingerprint, fingerprint):
        return _reused()
    body = None
    if record.response_sealed is not None:
        try:
            body = open_response(
                record.response_sealed, key=key, record_id=record.pk, user_id=record.user_id
            )
        except ResponseUnreadable:
            # Only if the index key changed under the record: refuse rather than act twice.
            return _reused()
    response = Response(body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler: Handler) -> Handler:
    """Decorate an APIView's `post`. Domain and validation errors are stored like successes."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return Response(
                error_body("invalid", _("Idempotency-Key is longer than 255 characters.")),
                status=status.HTTP_400_BAD_REQUEST,
            )
        user_id = request.user.pk
        hashed_key = key_hash(user_id=user_id, key=key)
        fingerprint = request_fingerprint(request, user_id=user_id)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user,
                        key_hash=hashed_key,
                        request_fingerprint=fingerprint,
                        response_status=0,
                    )
            except IntegrityError:
                existing = IdempotencyRecord.objects.get(user=request.user, key_hash=hashed_key)
                return _replay(existing, key=key, fingerprint=fingerprint)
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:
                # Answer domain errors now (and store them); anything else rolls back the
                # record with the work, so a retry runs again.
                response = view.handle_exception(exc)
            if response.status_code >= 500 or response.status_code == 429:
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_sealed = seal_response(
                response.data, key=key, record_id=record.pk, user_id=user_id
            )
            record.save(update_fields=["response_status", "response_sealed"])
        return response

    return extend_schema(parameters=[HEADER_PARAMETER])(wrapper)
