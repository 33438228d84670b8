"""What the three Meta products share, and the Messenger/Instagram adapter they build on.

WhatsApp, Messenger and Instagram use one webhook front door: the `hub.*` GET handshake and an
`X-Hub-Signature-256` HMAC over the raw body keyed with the App Secret. They also answer errors
in one Graph shape (`{"error": {"code": .., "error_subcode": ..}}`). Those pieces live here, with
the small JSON readers the parsers use so that a missing key or a wrong type always surfaces as
`MalformedPayload`, never as a `KeyError` or `TypeError`.

Exception messages name JSON paths only, never values: they can end up in logs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

from relay.adapters import downloads, http, messaging_events
from relay.adapters.base import (
    Adapter,
    MediaRef,
    OutboundMedia,
    OutboundText,
    Parsed,
    PermanentSendError,
    SendResult,
    TransientSendError,
    WebhookRequest,
    WindowClosedError,
)
from relay.adapters.payloads import (  # re-exported: the WhatsApp adapter reads with these too
    as_object,
    items,
    load_envelope,
    objects,
    optional_object,
    optional_str,
    required_id,
    unix_time,
)

__all__ = [
    "as_object",
    "items",
    "load_envelope",
    "objects",
    "optional_object",
    "optional_str",
    "required_id",
    "unix_time",
]

SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_PREFIX = "sha256="


# --- webhook handshake and signature (all three Meta products) ---------------------------------


def header(request: WebhookRequest, name: str) -> str | None:
    """Return header `name` (lower case), tolerating a caller that kept the original case."""
    value = request.headers.get(name)
    if value is not None:
        return value
    for key, candidate in request.headers.items():
        if key.lower() == name:
            return candidate
    return None


def verify_handshake(request: WebhookRequest, verify_token: str) -> tuple[int, str]:
    """Answer Meta's `hub.mode=subscribe` GET: echo `hub.challenge` if the verify token matches."""
    mode = request.query.get("hub.mode", "")
    token = request.query.get("hub.verify_token", "")
    challenge = request.query.get("hub.challenge")
    if (
        verify_token
        and mode == "subscribe"
        and challenge is not None
        and hmac.compare_digest(token.encode(), verify_token.encode())
    ):
        return 200, challenge
    return 403, "verification failed"


def signature_is_valid(request: WebhookRequest, app_secret: str) -> bool:
    """Check `X-Hub-Signature-256` against HMAC-SHA256(App Secret, raw body bytes)."""
    if not app_secret:
        return False
    value = header(request, SIGNATURE_HEADER)
    if not value or not value.startswith(SIGNATURE_PREFIX):
        return False
    received = value[len(SIGNATURE_PREFIX) :].strip().lower()
    expected = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    # Compare bytes: compare_digest refuses non-ASCII str, and a garbled header may be anything.
    return hmac.compare_digest(expected.encode(), received.encode("utf-8", "replace"))


# --- Graph API errors ----------------------------------------------------------------------


def graph_error(response: http.Response) -> tuple[int | None, int | None]:
    """Return (code, error_subcode) of a Graph error answer; None where absent."""
    error = http.json_object(response).get("error")
    if not isinstance(error, dict):
        return None, None

    def number(value: object) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return None

    return number(error.get("code")), number(error.get("error_subcode"))


def transient(response: http.Response, code: int | None, reason: str) -> TransientSendError:
    return TransientSendError(
        reason,
        code="" if code is None else str(code),
        retry_after=http.retry_after(response),
        may_have_sent=response.status_code >= 500,  # a 5xx may come after the send was taken
    )


# --- Messenger and Instagram ---------------------------------------------------------------

# Graph codes and subcodes (Send API reference and Graph error handling guide).
MESSENGER_TRANSIENT_CODES = frozenset({1, 2, 4, 32, 613})
MESSENGER_WINDOW_CODES = frozenset({10, 10900, 10903, 2018278, 2534022})
MESSENGER_UNAVAILABLE = 551
MESSENGER_CREDENTIALS = 190
MESSENGER_ABUSIVE = 368
MESSENGER_DISALLOWED = 230


class MetaMessagingAdapter(Adapter):
    """Messenger and Instagram: one `entry[].messaging[]` webhook shape and one Send API."""

    expected_object: ClassVar[str]
    text_limit: ClassVar[int] = 2000
    # The webhook events are read in relay/adapters/messaging_events.py.

    def handshake(self, request: WebhookRequest) -> tuple[int, str]:
        return verify_handshake(request, self.config.verify_token)

    def verify(self, request: WebhookRequest) -> bool:
        return signature_is_valid(request, self.config.app_secret)

    def parse(self, request: WebhookRequest) -> Parsed:
        payload = load_envelope(request.body, self.expected_object)
        return messaging_events.read_webhook(self.channel, payload)

    def send_url(self, message: OutboundText) -> str:
        return f"{self.config.api_base.rstrip('/')}/{message.identity_provider_id}/messages"

    # Images: PNG and JPEG, at most 8 MB (Instagram Messaging "Send a Message" media table;
    # the Messenger Platform's image guidance gives the same 8 MB).
    image_max_bytes = 8 * 1024 * 1024

    def download_media(self, ref: MediaRef, *, max_bytes: int, total_seconds: float) -> bytes:
        """An attachment's `payload.url` is a CDN URL that expires: fetched at once, without
        credentials (Messenger Platform, webhook "messages" event, attachments)."""
        return downloads.fetch(
            ref.reference,
            max_bytes=max_bytes,
            total_seconds=total_seconds,
            connect_timeout=min(3.0, self.config.timeout_seconds),
        )

    def send(self, message: OutboundText) -> SendResult:
        """A Messenger or Instagram message carries text or one attachment, not both: the text
        goes first, then each photo as a message of its own."""
        result = self._send_message(message, {"text": message.text[: self.text_limit]})
        for photo in message.media:
            result = self.send_photo(message, photo)
        return result

    def send_photo(self, message: OutboundText, photo: OutboundMedia) -> SendResult:
        """Messenger: the file itself, uploaded and sent in one multipart call (Send API,
        "attach from file": recipient, message with an attachment, filedata), so the photo
        never needs a public URL."""
        envelope = self._envelope(message)
        fields = {
            name: json.dumps(value) if isinstance(value, dict) else value
            for name, value in envelope.items()
        }
        fields["message"] = json.dumps(
            {"attachment": {"type": "image", "payload": {"is_reusable": False}}}
        )
        body, content_type = http.multipart(
            fields, "filedata", photo.file_name, photo.content_type, photo.data
        )
        response = http.post(
            self.send_url(message),
            content=body,
            headers={
                "Authorization": f"Bearer {self.config.access_token}",
                "Content-Type": content_type,
            },
            timeout=self.config.timeout_seconds,
        )
        return self._answer(response)

    def _envelope(self, message: OutboundText) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "recipient": {"id": message.to_address},
            "messaging_type": "RESPONSE",
        }
        if message.outside_window:
            payload["messaging_type"] = "MESSAGE_TAG"
            payload["tag"] = "HUMAN_AGENT"
        return payload

    def _send_message(self, message: OutboundText, content: dict[str, Any]) -> SendResult:
        payload = {**self._envelope(message), "message": content}
        response = http.post(
            self.send_url(message),
            json=payload,
            headers={"Authorization": f"Bearer {self.config.access_token}"},
            timeout=self.config.timeout_seconds,
        )
        return self._answer(response)

    def _answer(self, response: http.Response) -> SendResult:
        if response.ok:
            message_id = http.json_object(response).get("message_id")
            if isinstance(message_id, str) and message_id:
                return SendResult(message_id)
            raise TransientSendError("the platform's answer could not be read")
        raise self._send_error(response)

    def _send_error(self, response: http.Response) -> Exception:
        code, subcode = graph_error(response)
        known = {code, subcode} - {None}
        if response.status_code == 429 or known & MESSENGER_TRANSIENT_CODES:
            return transient(response, code, "the platform is busy; the message will be retried")
        if code == MESSENGER_UNAVAILABLE:
            return PermanentSendError("this person isn't available right now", code=str(code))
        if known & MESSENGER_WINDOW_CODES:
            return WindowClosedError(
                "the person has not written in a while, so the platform refused the message",
                code=str(subcode if subcode in MESSENGER_WINDOW_CODES else code),
            )
        if code == MESSENGER_CREDENTIALS or response.status_code == 401:
            return PermanentSendError(
                "the relay's credentials for this platform were rejected", code=str(code or "")
            )
        if code == MESSENGER_ABUSIVE:
            return PermanentSendError(
                "the platform blocked the message as a policy violation", code=str(code)
            )
        if code == MESSENGER_DISALLOWED:
            return PermanentSendError("this person's settings don't allow messages", code=str(code))
        if response.status_code >= 500:
            return transient(response, code, "the platform had a temporary problem")
        return PermanentSendError(
            "the platform refused the message", code="" if code is None else str(code)
        )
