"""WhatsApp Cloud API: `whatsapp_business_account` webhooks and `/<phone_number_id>/messages`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from contacts.phones import is_bsuid
from relay.adapters import downloads, http
from relay.adapters.base import (
    Adapter,
    Ignored,
    InboundMessage,
    MalformedPayload,
    MediaRef,
    MediaUnavailable,
    MessageKind,
    OutboundText,
    Parsed,
    PermanentSendError,
    Rejection,
    SendResult,
    StatusUpdate,
    TransientSendError,
    WebhookRequest,
    WindowClosedError,
)
from relay.adapters.meta import (
    as_object,
    graph_error,
    items,
    load_envelope,
    objects,
    optional_object,
    optional_str,
    required_id,
    signature_is_valid,
    transient,
    unix_time,
    verify_handshake,
)

logger = logging.getLogger(__name__)
TEXT_LIMIT = 4096
# An image message's caption (Cloud API reference, "Media messages": caption, 1024 characters).
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 512
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
# Not messages a person wrote: number-change notices ("system") and the "user opened the chat"
# event. They are skipped on purpose.
IGNORED_TYPES = {
    "system": "a system notice (the user changed number)",
    "request_welcome": "the user opened the chat",
}
STATUSES = frozenset({"sent", "delivered", "read", "failed"})

# Graph / Cloud API error codes (WhatsApp Cloud API error code reference).
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131048, 131056, 613})
TEMPORARY_CODES = frozenset({1, 2, 131000, 131016})
WINDOW_CLOSED = 131047
UNDELIVERABLE = 131026
CREDENTIALS = 190


class WhatsAppAdapter(Adapter):
    channel = "whatsapp"

    def handshake(self, request: WebhookRequest) -> tuple[int, str]:
        return verify_handshake(request, self.config.verify_token)

    def verify(self, request: WebhookRequest) -> bool:
        return signature_is_valid(request, self.config.app_secret)

    def parse(self, request: WebhookRequest) -> Parsed:
        payload = load_envelope(request.body, "whatsapp_business_account")
        parsed = Parsed()
        for entry_index, entry in enumerate(items(payload, "entry", "body")):
            where = f"entry[{entry_index}]"
            try:
                changes = items(as_object(entry, where), "changes", where)
            except MalformedPayload as error:
                parsed.rejections.append(Rejection(where, str(error)))
                continue
            for change_index, change in enumerate(changes):
                change_where = f"{where}.changes[{change_index}]"
                try:
                    parsed.extend(self._read_change(change, change_where))
                except MalformedPayload as error:
                    parsed.rejections.append(Rejection(change_where, str(error)))
        return parsed

    def _read_change(self, raw: object, where: str) -> Parsed:
        change = as_object(raw, where)
        if change.get("field") != "messages":
            # Template reviews, account updates...: subscribed fields with no message in them.
            return Parsed(ignored=[Ignored(where, "not a messages change")])
        where = f"{where}.value"
        value = as_object(change.get("value"), where)
        parsed = Parsed()
        messages = items(value, "messages", where)
        if messages:
            metadata = as_object(value.get("metadata"), f"{where}.metadata")
            identity = required_id(metadata, "phone_number_id", f"{where}.metadata")
            contacts = [c for c in items(value, "contacts", where) if isinstance(c, dict)]
            for index, message in enumerate(messages):
                message_where = f"{where}.messages[{index}]"
                try:
                    parsed.extend(self._read_message(message, identity, contacts, message_where))
                except MalformedPayload as error:
                    parsed.rejections.append(Rejection(message_where, str(error)))
        for index, status in enumerate(items(value, "statuses", where)):
            status_where = f"{where}.statuses[{index}]"
            try:
                parsed.extend(self._read_status(status, status_where))
            except MalformedPayload as error:
                parsed.rejections.append(Rejection(status_where, str(error)))
        for index in range(len(items(value, "errors", where))):
            # Out-of-band errors about the number or the webhook: for the operator, not a person.
            parsed.ignored.append(Ignored(f"{where}.errors[{index}]", "an error notice"))
        return parsed

    def _read_message(
        self,
        raw: object,
        identity: str,
        contacts: list[dict[str, Any]],
        where: str,
    ) -> Parsed:
        message = as_object(raw, where)
        kind = optional_str(message, "type", where) or ""
        if kind in IGNORED_TYPES:
            return Parsed(ignored=[Ignored(where, IGNORED_TYPES[kind])])
        provider_id = required_id(message, "id", where)
        timestamp = unix_time(message.get("timestamp"), f"{where}.timestamp")

        wa_id = optional_str(message, "from", where)
        user_id = _user_id(contacts, wa_id) or optional_str(message, "from_user_id", where)
        if wa_id:
            sender_address = wa_id if wa_id.startswith("+") else f"+{wa_id}"
        elif user_id:
            # A user with a WhatsApp username may hide their number: the BSUID is all we get.
            sender_address = user_id
        else:
            raise MalformedPayload(f"{where}.from is missing")

        context = optional_object(message, "context", where) or {}
        content = _content(message, kind, where)
        if message.get("group_id") not in (None, ""):
            # A group the business number is in: the relay is one-to-one, so nothing is carried
            # (the pipeline answers a polite refusal on the kind); the text stays out of it.
            content = _Content(MessageKind.GROUP)
        referral = optional_object(message, "referral", where) or {}
        ref = referral.get("ref")  # Click-to-WhatsApp ads carry source_* fields, not a ref
        return Parsed(
            events=[
                InboundMessage(
                    channel=self.channel,
                    provider_message_id=provider_id,
                    sender_address=sender_address,
                    identity_provider_id=identity,
                    text=content.text,
                    timestamp=timestamp,
                    sender_key=user_id,
                    reply_to_provider_id=content.reply_to
                    or optional_str(context, "id", f"{where}.context"),
                    has_media=content.has_media,
                    referral=ref if isinstance(ref, str) and ref else None,
                    kind=content.kind,
                    postback_payload=content.payload,
                    media=content.media,
                )
            ]
        )

    def _read_status(self, raw: object, where: str) -> Parsed:
        status = as_object(raw, where)
        state = status.get("status")
        # isinstance first: a list or an object here is unhashable and would raise TypeError.
        if not isinstance(state, str) or state not in STATUSES:
            # "deleted", "warning" and future states: nothing to record
            return Parsed(ignored=[Ignored(where, "a status the relay does not record")])
        errors = objects(status, "errors", where)
        first_error = errors[0] if errors else {}
        code = first_error.get("code")
        title = first_error.get("title")
        update = StatusUpdate(
            channel=self.channel,
            status=str(state),
            timestamp=unix_time(status.get("timestamp"), f"{where}.timestamp"),
            provider_message_id=required_id(status, "id", where),
            error_code=None if code is None or isinstance(code, bool) else str(code),
            error_title=title if isinstance(title, str) else None,
        )
        return Parsed(events=[update])

    # Cloud API "Supported media types": images are image/jpeg and image/png, at most 5 MB.
    image_max_bytes = 5 * 1024 * 1024

    def download_media(self, ref: MediaRef, *, max_bytes: int, total_seconds: float) -> bytes:
        """Cloud API "Retrieve media URL" then "Download media": GET /<media-id> with the
        bearer token answers a URL valid for 5 minutes, which is downloaded with the same
        token (developers.facebook.com/docs/whatsapp/cloud-api/reference/media)."""
        lookup = http.get(
            f"{self.config.api_base.rstrip('/')}/{ref.reference}",
            headers={"Authorization": f"Bearer {self.config.access_token}"},
            timeout=self.config.timeout_seconds,
            max_bytes=64 * 1024,
            total_seconds=total_seconds,
        )
        if lookup.status_code >= 500:
            raise TransientSendError("WhatsApp had a temporary problem")
        url = http.json_object(lookup).get("url")
        if not lookup.ok or not isinstance(url, str) or not url:
            raise MediaUnavailable("WhatsApp did not give the media's URL")
        return downloads.fetch(
            url,
            bearer=self.config.access_token,
            max_bytes=max_bytes,
            total_seconds=total_seconds,
            connect_timeout=min(3.0, self.config.timeout_seconds),
        )

    def send(self, message: OutboundText) -> SendResult:
        if message.media and not message.use_template:
            return self._send_photos(message)
        return self._send_payload(message, self._text_or_template(message))

    def _send_photos(self, message: OutboundText) -> SendResult:
        """Upload each photo (POST /<phone-number-id>/media, multipart, messaging_product=
        whatsapp) and send it by id as an image message, the text as the first one's caption
        (or before them, when longer than a caption may be)."""
        caption = message.text
        result = None
        if len(caption) > CAPTION_LIMIT:
            result = self._send_payload(message, self._text_or_template(message))
            caption = ""
        for photo in message.media:
            media_id = self._upload(message.identity_provider_id, photo.data, photo.content_type)
            image: dict[str, Any] = {"id": media_id}
            if caption:
                image["caption"] = caption
                caption = ""
            try:
                result = self._send_payload(message, {"type": "image", "image": image})
            finally:
                # Sent or refused, the upload has done its work (a retry uploads again).
                self._forget_upload(message.identity_provider_id, media_id)
        assert result is not None
        return result

    def _forget_upload(self, phone_number_id: str, media_id: str) -> None:
        """Cloud API "Delete media": DELETE /<media-id>?phone_number_id=<id> answers
        {"success": true}. Meta otherwise keeps an uploaded file for 30 days. Best effort: one
        short attempt, never retried, never failing the send that it follows."""
        try:
            response = http.delete(
                f"{self.config.api_base.rstrip('/')}/{media_id}?"
                + urlencode({"phone_number_id": phone_number_id}),
                headers={"Authorization": f"Bearer {self.config.access_token}"},
                timeout=min(3.0, self.config.timeout_seconds),
            )
        except TransientSendError:
            logger.info("an uploaded WhatsApp photo could not be deleted (unreachable)")
            return
        if not response.ok:
            logger.info(
                "an uploaded WhatsApp photo could not be deleted (%s)", response.status_code
            )

    def _upload(self, phone_number_id: str, data: bytes, content_type: str) -> str:
        body, multipart_type = http.multipart(
            {"messaging_product": "whatsapp", "type": content_type},
            "file",
            "photo." + content_type.rsplit("/", 1)[-1].replace("jpeg", "jpg"),
            content_type,
            data,
        )
        response = http.post(
            f"{self.config.api_base.rstrip('/')}/{phone_number_id}/media",
            content=body,
            headers={
                "Authorization": f"Bearer {self.config.access_token}",
                "Content-Type": multipart_type,
            },
            timeout=self.config.timeout_seconds,
        )
        media_id = http.json_object(response).get("id") if response.ok else None
        if isinstance(media_id, str) and media_id:
            return media_id
        if response.ok:
            raise TransientSendError("the platform's answer could not be read")
        raise _send_error(response)

    def _text_or_template(self, message: OutboundText) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if message.use_template:
            if not self.config.template_name:
                raise PermanentSendError(
                    "no WhatsApp template is set up for messages after the 24-hour window"
                )
            template: dict[str, Any] = {
                "name": self.config.template_name,
                "language": {"code": self.config.template_language},
            }
            if message.template_parameters:
                template["components"] = [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": parameter}
                            for parameter in message.template_parameters
                        ],
                    }
                ]
            payload["type"] = "template"
            payload["template"] = template
        else:
            payload["type"] = "text"
            payload["text"] = {"preview_url": False, "body": message.text[:TEXT_LIMIT]}
        return payload

    def _send_payload(self, message: OutboundText, content: dict[str, Any]) -> SendResult:
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        # A user known only by their business-scoped user id is addressed with `recipient`;
        # a phone number goes in `to` (WhatsApp Cloud API, "Business-scoped user IDs").
        payload["recipient" if is_bsuid(message.to_address) else "to"] = message.to_address
        payload.update(content)
        if message.reply_to_provider_id:
            payload["context"] = {"message_id": message.reply_to_provider_id}
        if message.callback_data:
            payload["biz_opaque_callback_data"] = message.callback_data[:CALLBACK_DATA_LIMIT]

        response = http.post(
            f"{self.config.api_base.rstrip('/')}/{message.identity_provider_id}/messages",
            json=payload,
            headers={"Authorization": f"Bearer {self.config.access_token}"},
            timeout=self.config.timeout_seconds,
        )
        if response.ok:
            return SendResult(_message_id(response))
        raise _send_error(response)


def _user_id(contacts: list[dict[str, Any]], wa_id: str | None) -> str | None:
    """Return the BSUID of the contact matching `wa_id` (or of the only contact)."""
    for contact in contacts:
        user_id = contact.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            continue
        if wa_id is None or len(contacts) == 1 or contact.get("wa_id") == wa_id.lstrip("+"):
            return user_id
    return None


def _interactive(body: dict[str, Any], where: str) -> _Content:
    """A reply button or list row tapped on a message we sent."""
    for reply_kind in ("button_reply", "list_reply"):
        reply = optional_object(body, reply_kind, where)
        if reply is not None:
            return _Content(
                MessageKind.POSTBACK,
                optional_str(reply, "title", f"{where}.{reply_kind}") or "",
                payload=optional_str(reply, "id", f"{where}.{reply_kind}"),
            )
    return _Content(MessageKind.UNSUPPORTED, has_media=True)  # nfm_reply (flows) and later


@dataclass(frozen=True)
class _Content:
    kind: str
    text: str = ""
    has_media: bool = False
    payload: str | None = None  # the id or payload of a tapped button
    reply_to: str | None = None  # the message a reaction is on
    media: tuple[MediaRef, ...] = ()


def _content(message: dict[str, Any], kind: str, where: str) -> _Content:
    """What a message of WhatsApp type `kind` says, as the relay reads it."""
    if kind == "contacts":  # an array of contact cards, not an object
        if not isinstance(message.get("contacts"), list):
            raise MalformedPayload(f"{where}.contacts is not a list")
        return _Content(MessageKind.CONTACTS, has_media=True)
    body = optional_object(message, kind, where) if kind else None
    inside = f"{where}.{kind}"
    if kind == "text":
        return _Content(MessageKind.TEXT, optional_str(body or {}, "body", inside) or "")
    if kind == "interactive":
        return _interactive(body or {}, inside)
    if kind == "button":  # a quick-reply button on a template we sent
        return _Content(
            MessageKind.POSTBACK,
            optional_str(body or {}, "text", inside) or "",
            payload=optional_str(body or {}, "payload", inside),
        )
    if kind == "reaction":  # an empty emoji removes the reaction
        return _Content(
            MessageKind.REACTION,
            optional_str(body or {}, "emoji", inside) or "",
            reply_to=optional_str(body or {}, "message_id", inside),
        )
    if kind in MEDIA_TYPES:
        # {id, mime_type, sha256, caption}: the id is fetched by a second Graph call.
        media_id = optional_str(body or {}, "id", inside)
        return _Content(
            MessageKind.MEDIA,
            optional_str(body or {}, "caption", inside) or "",
            has_media=True,
            media=(MediaRef(kind, media_id),) if media_id else (),
        )
    if kind == "location":
        return _Content(MessageKind.LOCATION, has_media=True)
    # "unsupported" (polls, view-once, a type too new for the API), orders and types added
    # later carry nothing the relay can forward; the sender is told it was not relayed.
    return _Content(MessageKind.UNSUPPORTED, has_media=True)


def _message_id(response: http.Response) -> str:
    messages = http.json_object(response).get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        message_id = messages[0].get("id")
        if isinstance(message_id, str) and message_id:
            return message_id
    raise TransientSendError("the platform's answer could not be read")


def _send_error(response: http.Response) -> Exception:
    code, _subcode = graph_error(response)
    status = response.status_code
    reported = "" if code is None else str(code)
    if status == 429 or code in RATE_LIMIT_CODES:
        return transient(response, code, "WhatsApp is rate-limiting the relay; it will retry")
    if code == WINDOW_CLOSED:
        return WindowClosedError(
            "more than 24 hours have passed since the recipient last wrote", code=reported
        )
    if code in TEMPORARY_CODES or status >= 500:
        return transient(response, code, "WhatsApp had a temporary problem; the relay will retry")
    if code == UNDELIVERABLE:
        return PermanentSendError(
            "the recipient's WhatsApp account cannot receive messages", code=reported
        )
    if code == CREDENTIALS or status == 401:
        return PermanentSendError(
            "the relay's WhatsApp credentials were rejected", code=reported or "401"
        )
    return PermanentSendError("WhatsApp refused the message", code=reported)
