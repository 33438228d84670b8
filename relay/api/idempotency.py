"""`Idempotency-Key` on POST: the same key and body replay the first response; another body
with the same key is 422.

The record is inserted before the handler runs, in the same transaction, so a concurrent retry
with the same key waits on the unique index and then replays instead of acting twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

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


def _request_hash(request: Request) -> str:
    data: Any = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    canonical = json.dumps(data, sort_keys=True, cls=JSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord, method_path: str, request_hash: str) -> Response:
    if record.method_path != method_path or record.request_hash != request_hash:
        return Response(
            error_body(
                "idempotency_key_reused",
                _("This Idempotency-Key was already used for a different request."),
            ),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(record.response_body, status=record.response_status)
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
        method_path = f"{request.method} {request.path}"[:300]
        request_hash = _request_hash(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        method_path=method_path,
                        request_hash=request_hash,
                        response_status=0,
                    )
            except IntegrityError:
                existing = IdempotencyRecord.objects.get(user=request.user, key=key)
                return _replay(existing, method_path, request_hash)
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
            record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.save(update_fields=["response_status", "response_body"])
        return response

    return extend_schema(parameters=[HEADER_PARAMETER])(wrapper)
