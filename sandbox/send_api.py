"""The platforms' send endpoints the relay calls: Graph `/<id>/messages` and Twilio `Messages.json`.

Every accepted send is recorded (global outbox, and the person's inbox when the address is a
known person) and answered in the platform's shape; refused sends are recorded as rejections.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs

from sandbox import errors
from sandbox.config import META_CHANNELS, Identity
from sandbox.media import (
    IMAGE_LIMITS,
    IMAGE_TYPES,
    FetchFailed,
    encoded,
    fetch,
    multipart_parts,
    sniff,
)
from sandbox.runtime import Runtime
from sandbox.state import FailurePlan, Record
from sandbox.web import Request, Response, json_response
from sandbox.webhooks import digits, new_provider_id, segment_count

TEXT_LIMITS = {"whatsapp": 4096, "messenger": 2000, "instagram": 1000, "sms": 1600}


def graph_send(runtime: Runtime, request: Request, object_id: str) -> Response:
    """POST /graph/<version>/<phone_number_id | page_id | ig_id>/messages."""
    runtime.pause(runtime.state.settings.latency_ms / 1000)
    identity = runtime.state.identity_for_provider_id(META_CHANNELS, object_id)
    if identity is None:
        return _reject(
            runtime, "", object_id, "unknown identity", errors.unknown_graph_object(object_id)
        )
    identity = _instagram_through_page(runtime, request, identity)
    channel = identity.channel
    if not bearer_token_matches(request, runtime.config.access_token(channel)):
        return _reject(runtime, channel, object_id, "bad token", errors.unauthorized(channel))
    refusal = _planned_failure(runtime, channel, object_id)
    if refusal is not None:
        return refusal
    try:
        if request.headers.get("content-type", "").startswith("multipart/") and channel != (
            "whatsapp"
        ):
            record = _page_record(runtime, channel, _file_send(request))
        else:
            payload = request.json()
            if not isinstance(payload, dict):
                raise ValueError("body is not a JSON object")
            if channel == "whatsapp":
                record = _whatsapp_record(runtime, payload)
            else:
                record = _page_record(runtime, channel, payload)
        record["posted_to"] = object_id  # the Graph object the send was posted to
    except ValueError as error:
        return _reject(
            runtime, channel, object_id, str(error), errors.bad_request(channel, str(error))
        )
    send = _accept(runtime, identity, record)
    if channel == "whatsapp":
        contact = (
            {"input": send["to"], "user_id": send["to"]}
            if send["to"].count(".") and not send["to"].startswith("+")
            else {"input": send["to"], "wa_id": digits(send["to"])}
        )
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": send["provider_message_id"]}],
        }
        return json_response(answer)
    return json_response({"recipient_id": send["to"], "message_id": send["provider_message_id"]})


def twilio_send(runtime: Runtime, request: Request, account_sid: str) -> Response:
    """POST /twilio/2010-04-01/Accounts/<AccountSid>/Messages.json."""
    runtime.pause(runtime.state.settings.latency_ms / 1000)
    config = runtime.config
    expected = (config.twilio_account_sid, config.twilio_auth_token)
    if account_sid != config.twilio_account_sid or not basic_auth_matches(request, expected):
        return _reject(runtime, "sms", account_sid, "bad credentials", errors.unauthorized("sms"))
    form = request.form()
    sender = form.get("From", "")
    identity = runtime.state.identity_for_provider_id(("sms",), sender)
    if identity is None and form.get("MessagingServiceSid") and not sender:
        identity = next((i for i in config.identities if i.channel == "sms"), None)
    if identity is None:
        message = (
            f"The From phone number {sender} is not a valid, SMS-capable inbound phone number "
            "or short code for your account."
        )
        response = errors.twilio_error(400, 21606, message)
        return _reject(runtime, "sms", sender, "unknown From", response)
    plan = runtime.state.take_failure("sms")
    if plan is not None and not plan.later:
        return _refusal(runtime, "sms", identity.provider_id, plan)
    to, body = form.get("To", ""), form.get("Body", "")
    media_urls = parse_qs(request.body.decode(), keep_blank_values=True).get("MediaUrl", [])
    problem = _twilio_problem(to, body, media_urls)
    if problem is not None:
        response = errors.twilio_error(400, *problem)
        return _reject(runtime, "sms", identity.provider_id, problem[1], response)
    if runtime.state.is_opted_out(identity.key, to):
        # The person replied STOP to this number (sandbox.opt_out): Twilio sends nothing.
        response = errors.unsubscribed_recipient()
        return _reject(runtime, "sms", identity.provider_id, "opted out", response)
    record: Record = {"to": to, "type": "mms" if media_urls else "text", "text": body}
    record["status_callback"] = form.get("StatusCallback") or None
    if plan is not None and media_urls:
        record["fails_later_with"] = "30011"  # reported by the status callback, not here
    if media_urls:
        try:
            record["photos"] = _mms_photos(media_urls)
        except ValueError as error:
            response = errors.twilio_error(400, 21620, f"Invalid media URL(s): {error}")
            return _reject(runtime, "sms", identity.provider_id, str(error), response)
    send = _accept(runtime, identity, record)
    created = email.utils.formatdate(send["received_at"], usegmt=True).replace("GMT", "+0000")
    sid = send["provider_message_id"]
    answer = {
        "sid": sid,
        "status": "queued",
        "to": to,
        "from": identity.address,
        "body": body,
        "account_sid": config.twilio_account_sid,
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "direction": "outbound-api",
        "num_segments": str(segment_count(body)),
        "num_media": str(len(media_urls)),
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "api_version": "2010-04-01",
        "date_created": created,
        "date_updated": created,
        "date_sent": None,
        "uri": f"/2010-04-01/Accounts/{config.twilio_account_sid}/Messages/{sid}.json",
    }
    return json_response(answer, 201)


def _twilio_problem(to: str, body: str, media_urls: list[str]) -> tuple[int, str] | None:
    if not to:
        return (21604, "A 'To' phone number is required.")
    if not body and not media_urls:
        return (21602, "Message body is required.")
    if len(body) > TEXT_LIMITS["sms"]:
        return (21617, "The concatenated message body exceeds the 1600 character limit.")
    return None


def _mms_photos(urls: list[str]) -> list[dict[str, Any]]:
    """Twilio fetches each MediaUrl (at most 10), 5 MB for the whole message."""
    if len(urls) > 10:
        raise ValueError("at most 10 MediaUrl")
    photos = [_fetched_photo("sms", url) for url in urls]
    if sum(int(photo["size"]) for photo in photos) > IMAGE_LIMITS["sms"]:
        raise ValueError("the media is larger than 5 MB in all")
    return photos


def _instagram_through_page(runtime: Runtime, request: Request, identity: Identity) -> Identity:
    """A send to a Page's id for an Instagram user is Instagram Messaging through that Page
    (Messenger Platform): it comes from the Instagram account, not the Messenger page."""
    if identity.channel != "messenger":
        return identity
    try:
        payload = request.json()
        recipient = str(((payload or {}).get("recipient") or {}).get("id") or "")
    except (ValueError, AttributeError):
        return identity
    if runtime.state.person_at("instagram", recipient) is None:
        return identity
    linked = next((i for i in runtime.config.identities if i.channel == "instagram"), None)
    return linked or identity


def _file_send(request: Request) -> dict[str, Any]:
    """The Send API with a file (multipart: recipient, message, filedata) as a payload whose
    attachment carries the file."""
    parts = multipart_parts(request)
    try:
        payload = {
            name: json.loads(parts[name][1])
            if name in ("recipient", "message")
            else (parts[name][1].decode())
            for name in parts
            if name != "filedata"
        }
    except (KeyError, ValueError) as error:
        raise ValueError("param recipient and message must be JSON") from error
    if "filedata" not in parts:
        raise ValueError("param filedata is required for an attachment upload")
    message = payload.get("message") or {}
    attachment = message.get("attachment") if isinstance(message, dict) else None
    if not isinstance(attachment, dict):
        raise ValueError("param message[attachment] is required")
    attachment["file"] = parts["filedata"][1]
    return payload


def _photo(channel: str, data: bytes) -> dict[str, Any]:
    """A photo the platform accepted, or ValueError in the platform's words."""
    kind = sniff(data)
    if kind not in IMAGE_TYPES[channel]:
        raise ValueError(f"Unsupported image type {kind}")
    if len(data) > IMAGE_LIMITS[channel]:
        raise ValueError(f"Image larger than {IMAGE_LIMITS[channel] // (1024 * 1024)} MB")
    return encoded(data, kind)


def _fetched_photo(channel: str, url: str) -> dict[str, Any]:
    try:
        return _photo(channel, fetch(url, max_bytes=IMAGE_LIMITS[channel]))
    except FetchFailed as error:
        raise ValueError(f"Failed to fetch the attachment: {error}") from error


def _whatsapp_image(runtime: Runtime, payload: dict[str, Any]) -> Record:
    image = payload.get("image") or {}
    media_id = str(image.get("id") or "")
    if media_id:
        stored = runtime.media.get(media_id)
        if stored is None:
            raise ValueError("(#131009) Parameter value is not valid: unknown media id")
        photo = _photo("whatsapp", stored.data)
    elif image.get("link"):
        photo = _fetched_photo("whatsapp", str(image["link"]))
    else:
        raise ValueError("The parameter image['id'] or image['link'] is required.")
    caption = image.get("caption") or ""
    if len(caption) > 1024:
        raise ValueError("Param image['caption'] must be at most 1024 characters long.")
    return {"text": caption, "photos": [photo]}


def _whatsapp_record(runtime: Runtime, payload: dict[str, Any]) -> Record:
    if payload.get("messaging_product") != "whatsapp":
        raise ValueError("The parameter messaging_product is required.")
    # A phone number in `to`, or a business-scoped user id in `recipient` (a username's user).
    to = str(payload.get("to") or payload.get("recipient") or "")
    if not (digits(to) or payload.get("recipient")):
        raise ValueError("The parameter to is required.")
    kind = str(payload.get("type") or "text")
    record: Record = {"to": to, "type": kind, "text": ""}
    if kind == "text":
        body = (payload.get("text") or {}).get("body")
        if not isinstance(body, str) or not body:
            raise ValueError("The parameter text['body'] is required.")
        if len(body) > TEXT_LIMITS["whatsapp"]:
            raise ValueError("Param text['body'] must be at most 4096 characters long.")
        record["text"] = body
    elif kind == "image":
        record.update(_whatsapp_image(runtime, payload))
    elif kind == "template":
        template = payload.get("template") or {}
        if not template.get("name"):
            raise ValueError("The parameter template['name'] is required.")
        record["template_name"] = template["name"]
        record["template_language"] = (template.get("language") or {}).get("code")
        record["template_params"] = [
            str(parameter.get("text", ""))
            for component in template.get("components") or []
            for parameter in component.get("parameters") or []
        ]
    record["reply_to"] = (payload.get("context") or {}).get("message_id")
    record["callback_data"] = payload.get("biz_opaque_callback_data")
    return record


def _page_attachment(runtime: Runtime, channel: str, attachment: dict[str, Any]) -> Record:
    if attachment.get("type") != "image":
        raise ValueError("the sandbox takes image attachments only")
    if "file" in attachment:
        return {"photos": [_photo(channel, attachment["file"])]}
    payload = attachment.get("payload") or {}
    if payload.get("url"):
        return {"photos": [_fetched_photo(channel, str(payload["url"]))]}
    stored = runtime.media.get(str(payload.get("attachment_id") or ""))
    if stored is None:
        raise ValueError("param attachment must have a url, an attachment_id or a file")
    return {"photos": [_photo(channel, stored.data)]}


def _page_record(runtime: Runtime, channel: str, payload: dict[str, Any]) -> Record:
    recipient = str((payload.get("recipient") or {}).get("id") or "")
    if not recipient:
        raise ValueError("param recipient must be non-empty.")
    messaging_type = payload.get("messaging_type")
    if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        raise ValueError("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
    if messaging_type == "MESSAGE_TAG" and not payload.get("tag"):
        raise ValueError("param tag is required when messaging_type is MESSAGE_TAG")
    message = payload.get("message") or {}
    text = message.get("text")
    if not isinstance(text, str) and not message.get("attachment"):
        raise ValueError("param message must have text or attachment")
    # Instagram's limit is 1,000 bytes of UTF-8, Messenger's 2,000 characters.
    size = len(text.encode()) if channel == "instagram" and isinstance(text, str) else None
    if isinstance(text, str) and (size or len(text)) > TEXT_LIMITS[channel]:
        raise ValueError(f"Length of param message[text] must be at most {TEXT_LIMITS[channel]}")
    record: Record = {
        "to": recipient,
        "type": "text" if isinstance(text, str) else "image",
        "text": text or "",
        "messaging_type": messaging_type,
        "tag": payload.get("tag"),
        "reply_to": (message.get("reply_to") or {}).get("mid"),
    }
    if not isinstance(text, str):
        record.update(_page_attachment(runtime, channel, message["attachment"]))
    return record


def _accept(runtime: Runtime, identity: Identity, record: Record) -> Record:
    person = runtime.state.person_at(identity.channel, record["to"])
    base: Record = {
        "channel": identity.channel,
        "identity": identity.key,
        "identity_provider_id": identity.provider_id,
        "identity_address": identity.address,
        "person": person.key if person else None,
        "to": record["to"],
        "type": "text",
        "text": "",
        "template_name": None,
        "template_language": None,
        "template_params": None,
        "reply_to": None,
        "callback_data": None,
        "messaging_type": None,
        "tag": None,
        "status_callback": None,
        "provider_message_id": new_provider_id(identity.channel),
        "status": "accepted",
        "received_at": time.time(),
    }
    base.update(record)
    send = runtime.state.record_send(base)
    if runtime.state.settings.auto_status:
        runtime.poster.schedule_statuses(send)
    return send


def _planned_failure(runtime: Runtime, channel: str, identity_id: str) -> Response | None:
    plan = runtime.state.take_failure(channel)
    if plan is None:
        return None
    return _refusal(runtime, channel, identity_id, plan)


def _refusal(runtime: Runtime, channel: str, identity_id: str, plan: FailurePlan) -> Response:
    if plan.mode == "timeout":
        runtime.pause(plan.seconds)
    return _reject(runtime, channel, identity_id, plan.mode, errors.injected_failure(channel, plan))


def _reject(
    runtime: Runtime, channel: str, identity_id: str, reason: str, response: Response
) -> Response:
    runtime.state.record_rejection(
        {
            "channel": channel,
            "identity_provider_id": identity_id,
            "reason": reason,
            "http_status": response.status,
            "received_at": time.time(),
        }
    )
    return response


def bearer_token_matches(request: Request, expected: str) -> bool:
    header = request.headers.get("authorization", "")
    token = (
        header[7:]
        if header.lower().startswith("bearer ")
        else request.query.get("access_token", "")
    )
    return bool(token) and hmac.compare_digest(token.encode(), expected.encode())


def basic_auth_matches(request: Request, expected: tuple[str, str]) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, _, password = decoded.partition(":")
    return hmac.compare_digest(f"{username}:{password}".encode(), ":".join(expected).encode())
