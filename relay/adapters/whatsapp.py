"""WhatsApp Cloud API: `whatsapp_business_account` webhooks and `/<phone_number_id>/messages`."""

from __future__ import annotations

from typing import Any

from contacts.phones import is_bsuid
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
from relay.adapters.meta import (
    as_object,
    graph_error,
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

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 512
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
# Nothing a person wrote: reactions, "unsupported" placeholders, number-change notices and the
# "user opened the chat" event are not messages to relay.
SKIPPED_TYPES = frozenset({"reaction", "unsupported", "system", "request_welcome"})
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

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        payload = load_envelope(request.body, "whatsapp_business_account")
        events: list[InboundEvent] = []
        for entry_index, entry in enumerate(objects(payload, "entry", "body")):
            where = f"entry[{entry_index}]"
            for change_index, change in enumerate(objects(entry, "changes", where)):
                if change.get("field") != "messages":
                    continue
                change_where = f"{where}.changes[{change_index}].value"
                value = as_object(change.get("value"), change_where)
                events.extend(self._read_value(value, change_where))
        return events

    def _read_value(self, value: dict[str, Any], where: str) -> list[InboundEvent]:
        events: list[InboundEvent] = []
        messages = objects(value, "messages", where)
        if messages:
            metadata = as_object(value.get("metadata"), f"{where}.metadata")
            identity = required_id(metadata, "phone_number_id", f"{where}.metadata")
            contacts = objects(value, "contacts", where)
            for index, message in enumerate(messages):
                event = self._read_message(
                    message, identity, contacts, f"{where}.messages[{index}]"
                )
                if event is not None:
                    events.append(event)
        for index, status in enumerate(objects(value, "statuses", where)):
            update = self._read_status(status, f"{where}.statuses[{index}]")
            if update is not None:
                events.append(update)
        return events

    def _read_message(
        self,
        message: dict[str, Any],
        identity: str,
        contacts: list[dict[str, Any]],
        where: str,
    ) -> InboundMessage | None:
        kind = optional_str(message, "type", where) or ""
        if kind in SKIPPED_TYPES:
            return None
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
        text, has_media = _content(message, kind, where)
        return InboundMessage(
            channel=self.channel,
            provider_message_id=provider_id,
            sender_address=sender_address,
            identity_provider_id=identity,
            text=text,
            timestamp=timestamp,
            sender_key=user_id,
            reply_to_provider_id=optional_str(context, "id", f"{where}.context"),
            has_media=has_media,
        )

    def _read_status(self, status: dict[str, Any], where: str) -> StatusUpdate | None:
        state = status.get("status")
        if state not in STATUSES:
            return None  # "deleted", "warning" and future states: nothing to record
        errors = objects(status, "errors", where)
        first_error = errors[0] if errors else {}
        code = first_error.get("code")
        title = first_error.get("title")
        return StatusUpdate(
            channel=self.channel,
            status=str(state),
            timestamp=unix_time(status.get("timestamp"), f"{where}.timestamp"),
            provider_message_id=required_id(status, "id", where),
            error_code=None if code is None or isinstance(code, bool) else str(code),
            error_title=title if isinstance(title, str) else None,
        )

    def send(self, message: OutboundText) -> SendResult:
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        # A user known only by their business-scoped user id is addressed with `recipient`;
        # a phone number goes in `to` (WhatsApp Cloud API, "Business-scoped user IDs").
        payload["recipient" if is_bsuid(message.to_address) else "to"] = message.to_address
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


def _content(message: dict[str, Any], kind: str, where: str) -> tuple[str, bool]:
    """Return (text, has_media) for a message of type `kind`."""
    body = optional_object(message, kind, where) if kind else None
    if kind == "text":
        return optional_str(body or {}, "body", f"{where}.text") or "", False
    if kind == "interactive":
        for reply_kind in ("button_reply", "list_reply"):
            reply = optional_object(body or {}, reply_kind, f"{where}.interactive")
            if reply is not None:
                return optional_str(
                    reply, "title", f"{where}.interactive.{reply_kind}"
                ) or "", False
        return "", False
    if kind == "button":  # a quick-reply button on a template we sent
        return optional_str(body or {}, "text", f"{where}.button") or "", False
    if kind in MEDIA_TYPES:
        return optional_str(body or {}, "caption", f"{where}.{kind}") or "", True
    # Location, contacts, orders and types added later carry no text the relay can forward;
    # flag them as media so the other side is told something arrived that was not relayed.
    return "", True


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
