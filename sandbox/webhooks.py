"""Build the webhooks the platforms post to the relay, byte for byte and signed.

Pure functions: they take the configuration and the facts, and return an `OutgoingWebhook`
(URL, raw body, headers). Posting and recording happen in `sandbox.delivery`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.config import Identity, Person, SandboxConfig
from sandbox.signing import meta_signature, twilio_signature

MEDIA_MIME_TYPE = "image/png"  # what /media/<id> serves
COUNTRY_PREFIXES = {
    "1": "US",
    "44": "GB",
    "60": "MY",
    "61": "AU",
    "62": "ID",
    "63": "PH",
    "65": "SG",
}
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@dataclass(frozen=True)
class OutgoingWebhook:
    channel: str
    url: str
    body: bytes
    headers: dict[str, str]


# Provider ids in the platforms' own formats


def new_wamid() -> str:
    return "wamid.HBgN" + secrets.token_urlsafe(36)


def new_mid() -> str:
    return "m_" + secrets.token_urlsafe(48)


def new_twilio_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def new_provider_id(channel: str) -> str:
    if channel == "whatsapp":
        return new_wamid()
    if channel == "sms":
        return new_twilio_sid()
    return new_mid()


def digits(address: str) -> str:
    return "".join(character for character in address if character.isdigit())


# Messages a person sends


def inbound_message(
    config: SandboxConfig,
    *,
    identity: Identity,
    person: Person,
    provider_message_id: str,
    text: str,
    reply_to: str | None,
    media_url: str | None,
    now: float,
    sms_extra: Mapping[str, str] | None = None,
    media_type: str = MEDIA_MIME_TYPE,
) -> OutgoingWebhook:
    """The webhook announcing that `person` wrote `text` to the relay's `identity`.

    `sms_extra` adds Twilio parameters such as `OptOutType` and `MessagingServiceSid`.
    """
    if identity.channel == "whatsapp":
        return _whatsapp_message(
            config,
            identity,
            person,
            provider_message_id,
            text,
            reply_to,
            media_url,
            now,
            media_type,
        )
    if identity.channel == "sms":
        return _sms_message(
            config,
            identity,
            person,
            provider_message_id,
            text,
            media_url,
            sms_extra or {},
            media_type,
        )
    message: dict[str, Any] = {"mid": provider_message_id}
    if text:
        message["text"] = text
    if reply_to:
        message["reply_to"] = {"mid": reply_to}
    if media_url:
        kind = media_type.split("/", 1)[0]
        kind = kind if kind in ("image", "audio", "video") else "file"
        message["attachments"] = [{"type": kind, "payload": {"url": media_url}}]
    event = {
        "sender": {"id": person.address},
        "recipient": {"id": identity.provider_id},
        "timestamp": int(now * 1000),
        "message": message,
    }
    return _meta_event(config, identity, event, now)


def _whatsapp_message(
    config: SandboxConfig,
    identity: Identity,
    person: Person,
    provider_message_id: str,
    text: str,
    reply_to: str | None,
    media_url: str | None,
    now: float,
    media_type: str = MEDIA_MIME_TYPE,
) -> OutgoingWebhook:
    contact: dict[str, Any] = {"profile": {"name": person.name}, "wa_id": digits(person.address)}
    if person.bsuid:
        contact["user_id"] = person.bsuid
    message: dict[str, Any] = {
        "from": digits(person.address),
        "id": provider_message_id,
        "timestamp": str(int(now)),
    }
    if reply_to:
        message["context"] = {"from": digits(identity.address), "id": reply_to}
    if media_url:
        media_id = media_url.split("?", 1)[0].rsplit("/", 1)[-1].split(".")[0]
        image: dict[str, Any] = {
            "id": media_id,
            "mime_type": media_type,
            "sha256": hashlib.sha256(media_id.encode()).hexdigest(),
        }
        if text:
            image["caption"] = text
        kind = media_type.split("/", 1)[0]
        kind = kind if kind in ("image", "audio", "video") else "document"
        message.update({"type": kind, kind: image})
    else:
        message.update(type="text", text={"body": text})
    value = {
        "messaging_product": "whatsapp",
        "metadata": _whatsapp_metadata(identity),
        "contacts": [contact],
        "messages": [message],
    }
    return _whatsapp_envelope(config, value)


def _sms_message(
    config: SandboxConfig,
    identity: Identity,
    person: Person,
    provider_message_id: str,
    text: str,
    media_url: str | None,
    extra: Mapping[str, str],
    media_type: str = MEDIA_MIME_TYPE,
) -> OutgoingWebhook:
    params = {
        "ToCountry": country_of(identity.address),
        "SmsMessageSid": provider_message_id,
        "NumMedia": "1" if media_url else "0",
        "SmsSid": provider_message_id,
        "SmsStatus": "received",
        "Body": text,
        "FromCountry": country_of(person.address),
        "To": identity.address,
        "NumSegments": str(segment_count(text)),
        "MessageSid": provider_message_id,
        "AccountSid": config.twilio_account_sid,
        "From": person.address,
        "ApiVersion": "2010-04-01",
    }
    if media_url:
        params.update(MediaUrl0=media_url, MediaContentType0=media_type)
    params.update(extra)
    return _twilio_form(config, config.webhook_url("sms"), params)


# Status reports about a send


def whatsapp_status(
    config: SandboxConfig, send: Mapping[str, Any], status: str, now: float
) -> OutgoingWebhook:
    report: dict[str, Any] = {
        "id": send["provider_message_id"],
        "status": status,
        "timestamp": str(int(now)),
        "recipient_id": digits(send["to"]),
    }
    if status != "read":
        report["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if send.get("callback_data"):
        report["biz_opaque_callback_data"] = send["callback_data"]
    identity = Identity(
        send["identity"], "whatsapp", send["identity_provider_id"], send["identity_address"]
    )
    value = {
        "messaging_product": "whatsapp",
        "metadata": _whatsapp_metadata(identity),
        "statuses": [report],
    }
    return _whatsapp_envelope(config, value)


def meta_receipt(
    config: SandboxConfig, send: Mapping[str, Any], status: str, now: float
) -> OutgoingWebhook:
    """A Messenger/Instagram `delivery` (status "delivered") or `read` event for one send."""
    watermark = int(now * 1000)
    event: dict[str, Any] = {
        "sender": {"id": send["to"]},
        "recipient": {"id": send["identity_provider_id"]},
        "timestamp": watermark,
    }
    if status == "delivered":
        event["delivery"] = {"mids": [send["provider_message_id"]], "watermark": watermark}
    else:
        event["read"] = {"watermark": watermark}
    identity = Identity(
        send["identity"], send["channel"], send["identity_provider_id"], send["identity_address"]
    )
    return _meta_event(config, identity, event, now)


def sms_status(
    config: SandboxConfig, send: Mapping[str, Any], status: str, now: float
) -> OutgoingWebhook:
    params = {
        "MessageSid": send["provider_message_id"],
        "SmsSid": send["provider_message_id"],
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": config.twilio_account_sid,
        "From": send["identity_address"],
        "To": send["to"],
        "ApiVersion": "2010-04-01",
    }
    if status == "undelivered" and send.get("fails_later_with"):
        params["ErrorCode"] = str(send["fails_later_with"])
    if status == "delivered":
        params["RawDlrDoneDate"] = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%y%m%d%H%M")
    return _twilio_form(config, send["status_callback"], params)


# Envelopes and signing


def _whatsapp_metadata(identity: Identity) -> dict[str, str]:
    return {
        "display_phone_number": digits(identity.address),
        "phone_number_id": identity.provider_id,
    }


def _whatsapp_envelope(config: SandboxConfig, value: dict[str, Any]) -> OutgoingWebhook:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": config.whatsapp_business_account_id,
                "changes": [{"field": "messages", "value": value}],
            }
        ],
    }
    return meta_json(config, "whatsapp", payload)


def _meta_event(
    config: SandboxConfig, identity: Identity, event: dict[str, Any], now: float
) -> OutgoingWebhook:
    payload = {
        "object": "page" if identity.channel == "messenger" else "instagram",
        "entry": [{"id": identity.provider_id, "time": int(now * 1000), "messaging": [event]}],
    }
    return meta_json(config, identity.channel, payload)


def meta_json(config: SandboxConfig, channel: str, payload: dict[str, Any]) -> OutgoingWebhook:
    # Meta escapes non-ASCII as \uXXXX; the relay must verify the bytes, not a re-encoding.
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": meta_signature(config.app_secret(channel), body),
        "User-Agent": "facebookexternalua",
    }
    return OutgoingWebhook(channel, config.webhook_url(channel), body, headers)


def _twilio_form(config: SandboxConfig, url: str, params: dict[str, str]) -> OutgoingWebhook:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "X-Twilio-Signature": twilio_signature(config.twilio_auth_token, url, params),
        "User-Agent": "TwilioProxy/1.1",
    }
    return OutgoingWebhook("sms", url, urlencode(params).encode("utf-8"), headers)


def country_of(address: str) -> str:
    number = digits(address)
    for length in (3, 2, 1):
        country = COUNTRY_PREFIXES.get(number[:length])
        if country:
            return country
    return ""


def segment_count(text: str) -> int:
    """SMS segments: 160/153 characters in GSM-7, 70/67 when any character needs UCS-2."""
    single, multi = (160, 153) if set(text) <= GSM7 else (70, 67)
    if len(text) <= single:
        return 1
    return math.ceil(len(text) / multi)
