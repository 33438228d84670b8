"""Webhook endpoints: verify the signature, parse, accept each event, acknowledge fast.

The view never calls a platform: accepted messages are committed and queued for the worker.
A POST is refused whole (and creates nothing) only when it is not the platform's at all: a bad
signature (403), a wrong content type (415), a body too large (413) or unreadable (400). Inside
a readable POST each event stands alone: one that cannot be read is logged with its position
and the reason (never a value), counted for /metrics and skipped, and the answer is 2xx once
the good ones are accepted — Meta retries the whole POST on any other answer.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from contacts import services as contacts
from relay.adapters import PlatformDisabled, adapter_for
from relay.adapters.base import (
    HELD_BACK_KINDS,
    InboundMessage,
    MalformedPayload,
    Parsed,
    StatusUpdate,
    WebhookRequest,
)
from relay.pipeline import accept_event
from relay.services.statuses import accept_status
from relay.webhook_rejections import record_rejected_events

logger = logging.getLogger(__name__)
CONTENT_TYPES = {
    "whatsapp": "application/json",
    "messenger": "application/json",
    "instagram": "application/json",
    "sms": "application/x-www-form-urlencoded",
}


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _webhook_request(request: HttpRequest) -> WebhookRequest:
    return WebhookRequest(
        method=request.method or "GET",
        url=request.build_absolute_uri(),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.body if request.method == "POST" else b"",
        query={key: request.GET[key] for key in request.GET},
        content_type=request.content_type or "",
    )


def _refuse_body(request: HttpRequest, platform: str) -> HttpResponse | None:
    """The answer to a POST whose body cannot be the platform's, or None to go on.

    Size and Content-Type are checked before the body is read for the signature."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(400, "Content-Length is not a number.")
    if length > settings.RELAY_MAX_WEBHOOK_BYTES:
        return _plain(
            413, f"Body too large: the limit is {settings.RELAY_MAX_WEBHOOK_BYTES} bytes."
        )
    expected = CONTENT_TYPES[platform]
    if request.content_type != expected:
        return _plain(415, f"Expected Content-Type {expected}.")
    return None


def _accept(platform: str, parsed: Parsed) -> None:
    """Skip (log and count) the events that could not be read; accept the others."""
    for rejection in parsed.rejections:
        # The position and the reason name JSON paths only: no id, number or body is logged.
        logger.warning(
            "%s webhook event %s skipped: %s", platform, rejection.where, rejection.reason
        )
    refused = 0
    for index, event in enumerate(parsed.events):
        if isinstance(event, StatusUpdate):
            accept_status(update=event)
        elif isinstance(event, InboundMessage) and event.kind not in HELD_BACK_KINDS:
            try:
                accept_event(event)
            except (contacts.ContactsError, contacts.InvalidPhoneNumber) as error:
                # A sender the relay cannot key (e.g. a WhatsApp username without a number,
                # until contacts learn BSUIDs): this event is lost, the batch is not.
                refused += 1
                logger.warning(
                    "%s webhook event %d (%s) skipped: the sender's address was refused (%s)",
                    platform,
                    index,
                    event.kind,
                    type(error).__name__,
                )
    record_rejected_events(platform, len(parsed.rejections) + refused)


@csrf_exempt
def webhook(request: HttpRequest, platform: str) -> HttpResponse:
    try:
        adapter = adapter_for(platform)
    except PlatformDisabled:
        return _plain(404, f"The {platform} channel is not configured on this relay.")
    if request.method == "GET":
        status, body = adapter.handshake(_webhook_request(request))
        return _plain(status, body)
    if request.method != "POST":
        return _plain(405, "Use POST.")
    refused = _refuse_body(request, platform)
    if refused is not None:
        return refused
    incoming = _webhook_request(request)
    if not adapter.verify(incoming):
        logger.warning("%s webhook with a bad signature rejected", platform)
        return _plain(403, "Invalid signature.")
    try:
        parsed = adapter.parse(incoming)
    except MalformedPayload as error:
        return _plain(400, f"Malformed {platform} payload: {error}")
    _accept(platform, parsed)
    status, content_type, body = adapter.ack()
    return HttpResponse(body, status=status, content_type=content_type)
