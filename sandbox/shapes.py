"""Inbound shapes beyond a plain text: what a person can do besides typing.

Each builds the platform's documented webhook (see docs/platforms.md for the pages):

- `contacts`       WhatsApp: a message of type "contacts", an ARRAY of contact cards.
- `group`          WhatsApp: a text written in a group (the message carries `group_id`).
- `username_only`  WhatsApp: a user with a username and a hidden number: `from_user_id` and
                   `contacts[].user_id` (a BSUID), no `from` and no `wa_id`.
- `referral`       WhatsApp: a text sent from a Click-to-WhatsApp ad (`referral.source_*`).
                   Messenger / Instagram: a deep link `?ref=` opened, in one of three shapes
                   (`referral_shape`): "postback" (Get Started in a new thread, the ref in
                   `postback.referral`), "event" (a standalone `referral` event in an existing
                   thread), "message" (a message carrying `message.referral`).
- `get_started`    Messenger / Instagram: the Get Started button, with `ref` if given.
- `menu`           Messenger / Instagram: a persistent-menu item; `payload` is its payload.

Pure functions, like sandbox.webhooks: the configuration and the facts in, a webhook out.
"""

from __future__ import annotations

from typing import Any

from sandbox import webhooks
from sandbox.config import Identity, Person, SandboxConfig
from sandbox.webhooks import OutgoingWebhook

WHATSAPP_SHAPES = frozenset({"contacts", "group", "username_only", "referral"})
MESSAGING_SHAPES = frozenset({"referral", "get_started", "menu"})
REFERRAL_SHAPES = ("postback", "event", "message")


class ShapeError(ValueError):
    """The shape cannot be sent on this channel, or an option is missing."""


def inbound_shape(
    config: SandboxConfig,
    *,
    kind: str,
    identity: Identity,
    person: Person,
    provider_message_id: str,
    text: str,
    now: float,
    options: dict[str, Any],
) -> OutgoingWebhook:
    """The webhook for `person` doing `kind` at the relay's `identity`."""
    if identity.channel == "whatsapp":
        if kind not in WHATSAPP_SHAPES:
            raise ShapeError(f"kind {kind!r} is not a WhatsApp shape: {sorted(WHATSAPP_SHAPES)}")
        return _whatsapp(config, kind, identity, person, provider_message_id, text, now)
    if identity.channel in ("messenger", "instagram"):
        if kind not in MESSAGING_SHAPES:
            raise ShapeError(f"kind {kind!r} is not a {identity.channel} shape")
        event = _messaging_event(kind, identity, person, provider_message_id, text, now, options)
        payload = {
            "object": "page" if identity.channel == "messenger" else "instagram",
            "entry": [{"id": identity.provider_id, "time": int(now * 1000), "messaging": [event]}],
        }
        return webhooks.meta_json(config, identity.channel, payload)
    raise ShapeError(f"kind {kind!r} is not available on {identity.channel}")


def _whatsapp(
    config: SandboxConfig,
    kind: str,
    identity: Identity,
    person: Person,
    provider_message_id: str,
    text: str,
    now: float,
) -> OutgoingWebhook:
    wa_id = webhooks.digits(person.address)
    contact: dict[str, Any] = {"profile": {"name": person.name}, "wa_id": wa_id}
    message: dict[str, Any] = {
        "from": wa_id,
        "id": provider_message_id,
        "timestamp": str(int(now)),
        "type": "text",
        "text": {"body": text or "Hello"},
    }
    if person.bsuid:
        contact["user_id"] = person.bsuid
    if kind == "contacts":
        del message["text"]
        message.update(type="contacts", contacts=[_contact_card(person)])
    elif kind == "group":
        message["group_id"] = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
    elif kind == "username_only":
        if not person.bsuid:
            raise ShapeError(f"{person.key} has no bsuid: give the person one to hide the number")
        contact = {"profile": {"name": person.name}, "user_id": person.bsuid}
        del message["from"]
        message["from_user_id"] = person.bsuid
    elif kind == "referral":  # Click-to-WhatsApp ad: source fields, no ref
        message["referral"] = {
            "source_url": "https://fb.me/3cr4Wqqkv",
            "source_id": "120226305854810726",
            "source_type": "ad",
            "headline": "Chat with us",
            "body": "Summer sale",
            "media_type": "image",
            "ctwa_clid": "Aff-sandbox-click-id",
        }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": identity.address,
            "phone_number_id": identity.provider_id,
        },
        "contacts": [contact],
        "messages": [message],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    return webhooks.meta_json(config, "whatsapp", payload)


def _contact_card(person: Person) -> dict[str, Any]:
    return {
        "name": {"formatted_name": f"{person.name}'s friend", "first_name": "Friend"},
        "phones": [{"phone": "+1 (650) 555-1234", "type": "CELL"}],
    }


def _messaging_event(
    kind: str,
    identity: Identity,
    person: Person,
    provider_message_id: str,
    text: str,
    now: float,
    options: dict[str, Any],
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "sender": {"id": person.address},
        "recipient": {"id": identity.provider_id},
        "timestamp": int(now * 1000),
    }
    ref = str(options.get("ref") or "")
    shape = str(options.get("referral_shape") or "postback")
    if kind == "menu":
        payload = str(options.get("payload") or "MENU_HELP")
        event["postback"] = {
            "mid": provider_message_id,
            "title": text or "Menu",
            "payload": payload,
        }
        return event
    if kind == "referral" and not ref:
        raise ShapeError("a referral needs a ref (the deep link's ?ref= value)")
    if kind == "referral" and shape not in REFERRAL_SHAPES:
        raise ShapeError(f"referral_shape must be one of {REFERRAL_SHAPES}")
    link = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
    if kind == "get_started" or shape == "postback":
        postback: dict[str, Any] = {
            "mid": provider_message_id,
            "title": "Get Started",
            "payload": str(options.get("payload") or "GET_STARTED"),
        }
        if ref:
            postback["referral"] = link
        event["postback"] = postback
    elif shape == "event":
        event["referral"] = link
    else:
        event["message"] = {"mid": provider_message_id, "text": text or "Hi", "referral": link}
    return event
