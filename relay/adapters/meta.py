"""What the three Meta products share, and the Messenger/Instagram adapter they build on.

WhatsApp, Messenger and Instagram use one webhook front door: the `hub.*` GET handshake and an
`X-Hub-Signature-256` HMAC over the raw body keyed with the App Secret. They also answer errors
in one Graph shape (`{"error": {"code": .., "error_subcode": ..}}`). Those pieces live here, with
the small JSON readers the parsers use so that a missing key or a wrong type always surfaces as
`MalformedPayload`, never as a `KeyError` or `TypeError`.

Exception messages name JSON paths only, never values: they can end up in logs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from relay.adapters import http
from relay.adapters.base import (
    Adapter,
    InboundEvent,
    InboundMessage,
    MalformedPayload,
    OutboundText,
    PermanentSendError,
    SendResult,
    StatusUpdate,
    TransientSendError,
    WebhookRequest,
    WindowClosedError,
)

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


# --- reading webhook JSON ------------------------------------------------------------------


def load_envelope(body: bytes, expected_object: str) -> dict[str, Any]:
    """Parse a Meta webhook body and check its `object`; raise MalformedPayload otherwise."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedPayload("the webhook body is not JSON") from error
    if not isinstance(payload, dict):
        raise MalformedPayload("the webhook body is not a JSON object")
    if payload.get("object") != expected_object:
        raise MalformedPayload(f"the webhook 'object' is not {expected_object!r}")
    return payload


def as_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} is not a JSON object")
    return value


def objects(container: Mapping[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """Return the list of objects at `key` ([] if absent); raise if it has the wrong shape."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}.{key} is not a list")
    return [as_object(item, f"{where}.{key}[{index}]") for index, item in enumerate(value)]


def optional_object(container: Mapping[str, Any], key: str, where: str) -> dict[str, Any] | None:
    value = container.get(key)
    return None if value is None else as_object(value, f"{where}.{key}")


def required_id(container: Mapping[str, Any], key: str, where: str) -> str:
    """Return a non-empty string (or integer) id at `key` as a string."""
    value = container.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedPayload(f"{where}.{key} is missing or not an id")
    return str(value)


def optional_str(container: Mapping[str, Any], key: str, where: str) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{where}.{key} is not a string")
    return value


def unix_time(value: object, where: str, *, milliseconds: bool = False) -> dt.datetime:
    """Read a unix time (seconds, or milliseconds for Messenger) given as a number or a string."""
    if isinstance(value, bool):
        raise MalformedPayload(f"{where} is not a unix time")
    try:
        number = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        number = None
    if number is None or number != number:  # missing, garbled or NaN
        raise MalformedPayload(f"{where} is not a unix time")
    if milliseconds:
        number /= 1000
    try:
        return dt.datetime.fromtimestamp(number, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise MalformedPayload(f"{where} is out of range") from error


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

    def handshake(self, request: WebhookRequest) -> tuple[int, str]:
        return verify_handshake(request, self.config.verify_token)

    def verify(self, request: WebhookRequest) -> bool:
        return signature_is_valid(request, self.config.app_secret)

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        payload = load_envelope(request.body, self.expected_object)
        events: list[InboundEvent] = []
        for entry_index, entry in enumerate(objects(payload, "entry", "body")):
            where = f"entry[{entry_index}]"
            for event_index, event in enumerate(objects(entry, "messaging", where)):
                events.extend(self._read_event(entry, event, f"{where}.messaging[{event_index}]"))
        return events

    def _read_event(
        self, entry: dict[str, Any], event: dict[str, Any], where: str
    ) -> list[InboundEvent]:
        sender = as_object(event.get("sender"), f"{where}.sender")
        sender_id = required_id(sender, "id", f"{where}.sender")
        recipient = optional_object(event, "recipient", where) or {}
        identity = recipient.get("id") or entry.get("id")
        timestamp = self._event_time(entry, event, where)

        message = optional_object(event, "message", where)
        if message is not None:
            return self._read_message(event, message, sender_id, identity, timestamp, where)
        postback = optional_object(event, "postback", where)
        if postback is not None:
            return self._read_postback(postback, sender_id, identity, timestamp, where)
        delivery = optional_object(event, "delivery", where)
        if delivery is not None:
            return self._read_receipt("delivered", delivery, sender_id, timestamp, where)
        read = optional_object(event, "read", where)
        if read is not None:
            return self._read_receipt("read", read, sender_id, timestamp, where)
        # Reactions, standalone referrals, optins, edits...: nothing to relay.
        return []

    def _event_time(self, entry: dict[str, Any], event: dict[str, Any], where: str) -> dt.datetime:
        # Delivery receipts carry no event timestamp; their watermark (or the entry time) stands in.
        delivery = event.get("delivery")
        watermark = delivery.get("watermark") if isinstance(delivery, dict) else None
        for source, value in (
            (f"{where}.timestamp", event.get("timestamp")),
            (f"{where}.delivery.watermark", watermark),
            ("entry.time", entry.get("time")),
        ):
            if value is not None:
                return unix_time(value, source, milliseconds=True)
        raise MalformedPayload(f"{where} has no timestamp")

    def _identity(self, identity: object, where: str) -> str:
        if isinstance(identity, bool) or not isinstance(identity, str | int) or identity == "":
            raise MalformedPayload(f"{where}.recipient.id is missing and the entry has no id")
        return str(identity)

    def _read_message(
        self,
        event: dict[str, Any],
        message: dict[str, Any],
        sender_id: str,
        identity: object,
        timestamp: dt.datetime,
        where: str,
    ) -> list[InboundEvent]:
        event_where, where = where, f"{where}.message"
        # Echoes are our own sends coming back; deleted means the user unsent it.
        if message.get("is_echo") is True or message.get("is_deleted") is True:
            return []
        text = optional_str(message, "text", where) or ""
        attachments = objects(message, "attachments", where)
        if not text and not attachments:
            return []
        reply_to = optional_object(message, "reply_to", where) or {}
        return [
            InboundMessage(
                channel=self.channel,
                provider_message_id=required_id(message, "mid", where),
                sender_address=sender_id,
                identity_provider_id=self._identity(identity, where),
                text=text,
                timestamp=timestamp,
                reply_to_provider_id=optional_str(reply_to, "mid", f"{where}.reply_to"),
                has_media=bool(attachments),
                referral=_referral(message, where) or _referral(event, event_where),
            )
        ]

    def _read_postback(
        self,
        postback: dict[str, Any],
        sender_id: str,
        identity: object,
        timestamp: dt.datetime,
        where: str,
    ) -> list[InboundEvent]:
        where = f"{where}.postback"
        mid = optional_str(postback, "mid", where)
        # Old postbacks have no mid: sender and time make a stable dedupe key for retries.
        provider_id = mid or f"postback:{sender_id}:{int(timestamp.timestamp() * 1000)}"
        return [
            InboundMessage(
                channel=self.channel,
                provider_message_id=provider_id,
                sender_address=sender_id,
                identity_provider_id=self._identity(identity, where),
                text=optional_str(postback, "payload", where) or "",
                timestamp=timestamp,
                referral=_referral(postback, where),
            )
        ]

    def _read_receipt(
        self,
        status: str,
        receipt: dict[str, Any],
        sender_id: str,
        timestamp: dt.datetime,
        where: str,
    ) -> list[InboundEvent]:
        where = f"{where}.{'delivery' if status == 'delivered' else 'read'}"
        mids = receipt.get("mids")
        if mids is not None and not isinstance(mids, list):
            raise MalformedPayload(f"{where}.mids is not a list")
        single_mid = receipt.get("mid")  # Instagram's messaging_seen names the message read
        ids = [str(mid) for mid in (mids or []) if isinstance(mid, str | int) and mid != ""]
        if isinstance(single_mid, str) and single_mid:
            ids.append(single_mid)
        if ids:
            return [
                StatusUpdate(
                    channel=self.channel,
                    status=status,
                    timestamp=timestamp,
                    provider_message_id=mid,
                )
                for mid in ids
            ]
        watermark = receipt.get("watermark")
        if watermark is None:
            return []
        # The sender of a receipt is the person our messages went to.
        return [
            StatusUpdate(
                channel=self.channel,
                status=status,
                timestamp=timestamp,
                recipient_address=sender_id,
                watermark=unix_time(watermark, f"{where}.watermark", milliseconds=True),
            )
        ]

    def send_url(self, message: OutboundText) -> str:
        return f"{self.config.api_base.rstrip('/')}/{message.identity_provider_id}/messages"

    def send(self, message: OutboundText) -> SendResult:
        payload: dict[str, Any] = {
            "recipient": {"id": message.to_address},
            "messaging_type": "RESPONSE",
            "message": {"text": message.text[: self.text_limit]},
        }
        if message.outside_window:
            payload["messaging_type"] = "MESSAGE_TAG"
            payload["tag"] = "HUMAN_AGENT"
        response = http.post(
            self.send_url(message),
            json=payload,
            headers={"Authorization": f"Bearer {self.config.access_token}"},
            timeout=self.config.timeout_seconds,
        )
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


def _referral(container: Mapping[str, Any], where: str) -> str | None:
    referral = optional_object(container, "referral", where)
    if referral is None:
        return None
    ref = referral.get("ref")
    return ref if isinstance(ref, str) and ref else None
