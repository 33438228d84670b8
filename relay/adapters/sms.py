"""SMS through Twilio Programmable Messaging: form webhooks, `X-Twilio-Signature`, REST sends."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import urllib.parse
from typing import Any

from relay.adapters import downloads, http
from relay.adapters.base import (
    Adapter,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MediaRef,
    MessageKind,
    OutboundText,
    Parsed,
    PermanentSendError,
    Rejection,
    SendResult,
    StatusUpdate,
    TransientSendError,
    WebhookRequest,
)
from relay.adapters.meta import header

SIGNATURE_HEADER = "x-twilio-signature"
TEXT_LIMIT = 1600
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
DEFAULT_PORTS = {"https": 443, "http": 80}
# Twilio's MessageStatus values worth recording; queued, sending, accepted, scheduled, receiving,
# received, partially_delivered and canceled are not (and no callback comes for some of them).
STATUS_MAP = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "failed",
}

# Twilio REST error codes (twilio.com/docs/api/errors).
RATE_LIMITED = 20429
OPTED_OUT = 21610
INVALID_NUMBERS = frozenset({21211, 21614})
CREDENTIALS = 20003


def form_parameters(body: bytes) -> dict[str, list[str]]:
    """Read a form-encoded body, keeping blank values (they are part of the signature)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedPayload("the webhook body is not UTF-8 form data") from error
    return urllib.parse.parse_qs(text, keep_blank_values=True)


def twilio_signature(auth_token: str, url: str, parameters: dict[str, list[str]]) -> str:
    """Return base64(HMAC-SHA1(auth token, url + name/value pairs in sorted order))."""
    signed = url + "".join(
        name + value for name in sorted(parameters) for value in sorted(parameters[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> list[str]:
    """Return `url` as given, plus with/without the scheme's default port, like Twilio's validator.

    Twilio signs the URL exactly as configured; a proxy may add or strip ":443"/":80".
    """
    variants = [url]
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return variants
    default_port = DEFAULT_PORTS.get(parts.scheme.lower())
    if default_port is None or not parts.hostname:
        return variants
    if port is None:
        with_port = parts._replace(netloc=f"{parts.netloc}:{default_port}")
        variants.append(urllib.parse.urlunsplit(with_port))
    elif port == default_port:
        host = parts.netloc.rsplit(":", 1)[0]
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=host)))
    return variants


class SmsAdapter(Adapter):
    channel = "sms"

    def handshake(self, request: WebhookRequest) -> tuple[int, str]:
        return 405, "not used"

    def verify(self, request: WebhookRequest) -> bool:
        auth_token = self.config.app_secret
        received = header(request, SIGNATURE_HEADER)
        if not auth_token or not received:
            return False
        try:
            parameters = form_parameters(request.body)
        except MalformedPayload:
            return False
        received_bytes = received.strip().encode("utf-8", "replace")
        matches = [
            hmac.compare_digest(
                twilio_signature(auth_token, candidate, parameters).encode(), received_bytes
            )
            for candidate in url_variants(request.url)
        ]
        return any(matches)

    def parse(self, request: WebhookRequest) -> Parsed:
        # A form is one event: when it cannot be read it is a rejection (answered 200, so
        # Twilio does not retry it); only a body that is not a form at all is refused.
        fields = {name: values[0] for name, values in form_parameters(request.body).items()}
        try:
            return self._read_form(fields)
        except MalformedPayload as error:
            return Parsed(rejections=[Rejection("form", str(error))])

    def _read_form(self, fields: dict[str, str]) -> Parsed:
        provider_id = (
            fields.get("MessageSid") or fields.get("SmsSid") or fields.get("SmsMessageSid")
        )
        if not provider_id:
            raise MalformedPayload("the webhook has no MessageSid")
        # Twilio's webhooks carry no event time; the moment we read it is close enough.
        now = dt.datetime.now(dt.UTC)

        message_status = fields.get("MessageStatus")
        if message_status is not None and "Body" not in fields:
            status = STATUS_MAP.get(message_status.lower())
            if status is None:
                return Parsed(ignored=[Ignored("form", "a status the relay does not record")])
            update = StatusUpdate(
                channel=self.channel,
                status=status,
                timestamp=now,
                provider_message_id=provider_id,
                error_code=fields.get("ErrorCode") or None,
            )
            return Parsed(events=[update])

        sender, identity = fields.get("From"), fields.get("To")
        if not sender:
            raise MalformedPayload("the webhook has no From")
        if not identity:
            raise MalformedPayload("the webhook has no To")
        try:
            media_count = int(fields.get("NumMedia") or 0)
        except ValueError as error:
            raise MalformedPayload("the webhook's NumMedia is not a number") from error
        text = fields.get("Body", "")
        if not E164.fullmatch(sender):
            # A short code (5-6 digits) or an alphanumeric sender id ("InfoSMS"): carrier and
            # business senders that cannot receive a reply, and not a number the relay can key.
            kind = MessageKind.UNSUPPORTED_SENDER
        elif media_count > 0:
            kind = MessageKind.MEDIA  # MMS: MediaUrl0..N; the Body, if any, is its caption
        else:
            kind = MessageKind.TEXT  # STOP/START/HELP included: OptOutType only echoes the word
        message = InboundMessage(
            channel=self.channel,
            provider_message_id=provider_id,
            sender_address=sender,
            identity_provider_id=identity,
            text=text,
            timestamp=now,
            has_media=media_count > 0,
            kind=kind,
            media=_media_refs(fields, media_count),
        )
        return Parsed(events=[message])

    # Twilio MMS: 5 MB for the whole message (twilio.com/docs/messaging/guides/accepted-mime-types).
    image_max_bytes = 5 * 1024 * 1024

    def download_media(self, ref: MediaRef, *, max_bytes: int, total_seconds: float) -> bytes:
        """MediaUrlN (twilio.com/docs/messaging/guides/webhook-request). With HTTP Basic
        authentication on for media, Twilio wants the Account SID and Auth Token: they are sent
        only to Twilio's own API host, never to a host a URL or a redirect names."""
        api_host = urllib.parse.urlsplit(self.config.api_base).netloc
        ours = urllib.parse.urlsplit(ref.reference).netloc == api_host
        return downloads.fetch(
            ref.reference,
            auth=(self.config.access_token, self.config.app_secret) if ours else None,
            max_bytes=max_bytes,
            total_seconds=total_seconds,
            connect_timeout=min(3.0, self.config.timeout_seconds),
        )

    def ack(self) -> tuple[int, str, str]:
        # An empty TwiML response: acknowledge, auto-reply nothing; replies go out via REST.
        return 200, "text/xml", EMPTY_TWIML

    def send(self, message: OutboundText) -> SendResult:
        account_sid = self.config.access_token
        form = {
            "To": message.to_address,
            "From": message.identity_provider_id,
            "Body": message.text[:TEXT_LIMIT],
        }
        if self.config.status_callback_url:
            form["StatusCallback"] = self.config.status_callback_url
        response = http.post(
            f"{self.config.api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json",
            data=_media_urls(form, message) if message.media else form,
            auth=(account_sid, self.config.app_secret),
            timeout=self.config.timeout_seconds,
        )
        body = http.json_object(response)
        if response.ok:
            sid = body.get("sid")
            if isinstance(sid, str) and sid:
                return SendResult(sid)
            raise TransientSendError("the platform's answer could not be read")
        raise _send_error(response, body)


def _media_refs(fields: dict[str, str], count: int) -> tuple[MediaRef, ...]:
    """MediaUrl0..N with MediaContentType0..N (at most 10 per MMS); only images keep their URL."""
    refs = []
    for index in range(min(count, MAX_MEDIA)):
        url = fields.get(f"MediaUrl{index}", "")
        declared = fields.get(f"MediaContentType{index}", "")
        if declared.startswith("image/") and url:
            refs.append(MediaRef("image", url))
        else:
            refs.append(MediaRef(declared.split("/", 1)[0] or "file", ""))
    return tuple(refs)


MAX_MEDIA = 10
# Twilio sends MMS to US and Canadian numbers only (Twilio support, "Which countries support
# MMS?"); elsewhere the delivery sends a text with a link to a page that shows the photo.
MMS_PREFIXES = ("+1",)


def mms_reaches(address: str) -> bool:
    return address.startswith(MMS_PREFIXES)


def _media_urls(form: dict[str, str], message: OutboundText) -> list[tuple[str, str]]:
    """The form with one MediaUrl per photo (Twilio takes the parameter repeated): public,
    signed, expiring URLs Twilio fetches once (relay/services/media_links.py)."""
    return [*form.items(), *(("MediaUrl", photo.public_url) for photo in message.media)]


def _send_error(response: http.Response, body: dict[str, Any]) -> Exception:
    raw_code = body.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    reported = "" if code is None else str(code)
    status = response.status_code
    if status == 429 or code == RATE_LIMITED or status >= 500:
        return TransientSendError(
            "Twilio is busy or had a temporary problem; the relay will retry",
            code=reported,
            retry_after=http.retry_after(response),
            may_have_sent=status >= 500,  # Twilio's 20500 page: a 500 may have sent it
        )
    if code == OPTED_OUT:
        return PermanentSendError(
            "the recipient has opted out of SMS from this number (replied STOP)", code=reported
        )
    if code in INVALID_NUMBERS:
        return PermanentSendError("the recipient is not a valid mobile number", code=reported)
    if code == CREDENTIALS or status == 401:
        return PermanentSendError(
            "the relay's Twilio credentials were rejected", code=reported or "401"
        )
    return PermanentSendError("Twilio refused the message", code=reported)
