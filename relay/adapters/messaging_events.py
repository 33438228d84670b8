"""Messenger and Instagram webhook events, read one by one (docs/platforms.md has the table).

Both products deliver `entry[].messaging[]` events that differ by which key they carry:
`message`, `postback`, `referral`, `reaction`, `message_edit`, `delivery`, `read`, and a few
the relay has no use for (opt-ins, handovers, account linking). A copy of an event for an app
that does not own the conversation arrives in `entry[].standby[]` instead; it is skipped.

An event that cannot be read is a `Rejection`; the rest of the webhook still counts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from relay.adapters.base import (
    Ignored,
    InboundMessage,
    MalformedPayload,
    MediaRef,
    MessageKind,
    Parsed,
    Rejection,
    StatusUpdate,
)
from relay.adapters.payloads import (
    as_object,
    items,
    objects,
    optional_object,
    optional_str,
    required_id,
    unix_time,
)

# Keys of events the relay reads nothing from: opt-ins, handover protocol, account linking,
# Instant Games, policy notices, the new-message-request flow.
IGNORED_EVENT_KEYS = {
    "optin": "an opt-in",
    "pass_thread_control": "a handover",
    "take_thread_control": "a handover",
    "request_thread_control": "a handover",
    "app_roles": "a handover",
    "account_linking": "account linking",
    "game_play": "an Instant Game",
    "policy-enforcement": "a policy notice",
    "policy_enforcement": "a policy notice",
    "response_feedback": "a feedback response",
}
# Persistent-menu and button payloads the relay understands. A payload with one of these as a
# word ("MENU_HELP", "REPORT_CONVERSATION") stands for that keyword. Whole words only:
# Get Started's usual payload, "GET_STARTED", must not read as START.
POSTBACK_KEYWORDS = ("UNBLOCK", "BLOCK", "REPORT", "STOP", "START", "HELP")
_PAYLOAD_WORD = re.compile(r"[A-Z0-9]+")
FALLBACK_KEYWORD = "HELP"  # Get Started without a ref, and a payload the relay does not know
# The key an event carries, in the order they are looked for, and the reader for it. Receipts
# first: a delivery or read event never carries anything else worth reading.
EVENT_KEYS = {
    "delivery": "delivery",
    "read": "read",
    "message": "message",
    "postback": "postback",
    "referral": "referral",
    "reaction": "reaction",
    "message_edit": "edit",
}
LOCATION_ATTACHMENTS = frozenset({"location"})
STORY_MENTION = "story_mention"


def read_webhook(channel: str, payload: Mapping[str, Any]) -> Parsed:
    """Read every `entry[].messaging[]` event of a checked envelope."""
    parsed = Parsed()
    for entry_index, entry in enumerate(items(payload, "entry", "body")):
        where = f"entry[{entry_index}]"
        try:
            entry = as_object(entry, where)
            events = items(entry, "messaging", where)
            standby = items(entry, "standby", where)
        except MalformedPayload as error:
            parsed.rejections.append(Rejection(where, str(error)))
            continue
        for event_index, event in enumerate(events):
            event_where = f"{where}.messaging[{event_index}]"
            try:
                parsed.extend(_read_event(channel, entry, event, event_where))
            except MalformedPayload as error:
                parsed.rejections.append(Rejection(event_where, str(error)))
        for index in range(len(standby)):
            parsed.ignored.append(
                Ignored(f"{where}.standby[{index}]", "standby: another app owns the conversation")
            )
        if "changes" in entry:  # comments, mentions, feed: subscribed fields that are not chat
            parsed.ignored.append(Ignored(f"{where}.changes", "not a messaging event"))
    return parsed


def _ignore(where: str, what: str) -> Parsed:
    return Parsed(ignored=[Ignored(where, what)])


def _read_event(channel: str, entry: dict[str, Any], raw: object, where: str) -> Parsed:
    event = as_object(raw, where)
    message = optional_object(event, "message", where)
    # Echoes are the page's own sends coming back (Instagram has no separate echo field).
    if message is not None and message.get("is_echo") is True:
        return _ignore(where, "echo of our own message")
    timestamp = _event_time(entry, event, where)
    ignored = next((what for key, what in IGNORED_EVENT_KEYS.items() if key in event), None)
    if ignored is not None:
        return _ignore(where, ignored)

    sender_id, guest = _sender(event, where)
    reader = _Reader(channel, sender_id, _identity(entry, event, where), timestamp, guest)
    for key in EVENT_KEYS:
        body = optional_object(event, key, where)
        if body is not None:
            return getattr(reader, EVENT_KEYS[key])(event, body, where)
    raise MalformedPayload(f"{where} is an event type the relay does not know")


def _sender(event: dict[str, Any], where: str) -> tuple[str, bool]:
    """(sender id, whether it is a guest the relay cannot answer)."""
    sender = as_object(event.get("sender"), f"{where}.sender")
    if sender.get("id") not in (None, ""):
        return required_id(sender, "id", f"{where}.sender"), False
    user_ref = sender.get("user_ref")
    if isinstance(user_ref, str) and user_ref:
        # A chat-plugin guest on a website: no PSID, so the Send API cannot answer them by id.
        return user_ref, True
    raise MalformedPayload(f"{where}.sender.id is missing")


def _event_time(entry: dict[str, Any], event: dict[str, Any], where: str) -> dt.datetime:
    # Delivery receipts carry no event timestamp; their watermark (or the entry time) stands in.
    delivery = event.get("delivery")
    watermark = delivery.get("watermark") if isinstance(delivery, dict) else None
    for source, value in (
        (f"{where}.timestamp", event.get("timestamp")),
        (f"{where}.delivery.watermark", watermark),
        ("entry.time", entry.get("time")),
    ):
        if value is not None:
            return unix_time(value, source, milliseconds=_milliseconds(value))
    raise MalformedPayload(f"{where} has no timestamp")


def _milliseconds(value: object) -> bool:
    # Webhook timestamps are milliseconds, but the postback reference shows a string of seconds
    # ("1527459824"): a number below 10^11 cannot be milliseconds of any date after 1973.
    try:
        return float(value) >= 1e11  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True  # unix_time will reject it with the path


def _identity(entry: dict[str, Any], event: dict[str, Any], where: str) -> str:
    recipient = optional_object(event, "recipient", where) or {}
    identity = recipient.get("id") or entry.get("id")
    if isinstance(identity, bool) or not isinstance(identity, str | int) or identity == "":
        raise MalformedPayload(f"{where}.recipient.id is missing and the entry has no id")
    return str(identity)


def postback_keyword(payload: str) -> str:
    """The keyword a menu or button payload stands for; HELP when it names none."""
    words = set(_PAYLOAD_WORD.findall(payload.upper()))
    return next((word for word in POSTBACK_KEYWORDS if word in words), FALLBACK_KEYWORD)


def ref_of(container: Mapping[str, Any], where: str) -> str | None:
    referral = optional_object(container, "referral", where)
    if referral is None:
        return None
    ref = referral.get("ref")
    return ref if isinstance(ref, str) and ref else None


class _Reader:
    """Builds the relay's events for one sender, identity and time."""

    def __init__(
        self, channel: str, sender: str, identity: str, timestamp: dt.datetime, guest: bool
    ) -> None:
        self.channel, self.sender, self.identity = channel, sender, identity
        self.timestamp, self.guest = timestamp, guest

    def _one(self, provider_id: str, kind: str, text: str = "", **fields: Any) -> Parsed:
        return Parsed(
            events=[
                InboundMessage(
                    channel=self.channel,
                    provider_message_id=provider_id,
                    sender_address=self.sender,
                    identity_provider_id=self.identity,
                    text=text,
                    timestamp=self.timestamp,
                    kind=MessageKind.UNSUPPORTED_SENDER if self.guest else kind,
                    **fields,
                )
            ]
        )

    def _synthetic_id(self, what: str) -> str:
        # Events without a mid: sender and time make a stable dedupe key for Meta's retries.
        return f"{what}:{self.sender}:{int(self.timestamp.timestamp() * 1000)}"

    def message(self, event: dict[str, Any], message: dict[str, Any], where: str) -> Parsed:
        event_where, where = where, f"{where}.message"
        mid = required_id(message, "mid", where)
        if message.get("is_deleted") is True:  # the person unsent it
            return self._one(f"{mid}#deleted", MessageKind.DELETE, reply_to_provider_id=mid)
        text = optional_str(message, "text", where) or ""
        attachments = objects(message, "attachments", where)
        types = {str(attachment.get("type")) for attachment in attachments}
        reply_to = optional_object(message, "reply_to", where) or {}
        quick_reply = optional_object(message, "quick_reply", where) or {}
        ref = ref_of(message, where) or ref_of(event, event_where)
        if STORY_MENTION in types:
            kind = MessageKind.STORY_MENTION
        elif optional_object(reply_to, "story", f"{where}.reply_to") is not None:
            kind = MessageKind.STORY_REPLY
        elif text:
            kind = MessageKind.TEXT
        elif types and types <= LOCATION_ATTACHMENTS:
            kind = MessageKind.LOCATION
        elif attachments:
            kind = MessageKind.MEDIA
        elif ref:  # a message that only carries a referral (an ad or a shop product)
            kind, text = MessageKind.REFERRAL, ref
        else:
            kind = MessageKind.UNSUPPORTED
        return self._one(
            mid,
            kind,
            text,
            reply_to_provider_id=optional_str(reply_to, "mid", f"{where}.reply_to"),
            has_media=bool(attachments) or kind == MessageKind.UNSUPPORTED,
            referral=ref,
            postback_payload=optional_str(quick_reply, "payload", f"{where}.quick_reply"),
            media=_media_refs(attachments, types),
        )

    def postback(self, event: dict[str, Any], postback: dict[str, Any], where: str) -> Parsed:
        where = f"{where}.postback"
        payload = optional_str(postback, "payload", where) or ""
        provider_id = optional_str(postback, "mid", where) or self._synthetic_id("postback")
        ref = ref_of(postback, where)
        if ref:  # Get Started in a new thread opened from m.me/ig.me ?ref=: the ref is the handle
            return self._one(
                provider_id, MessageKind.REFERRAL, ref, referral=ref, postback_payload=payload
            )
        # A menu or button tap is a command, never text for the other side.
        return self._one(
            provider_id,
            MessageKind.POSTBACK,
            postback_keyword(payload),
            postback_payload=payload,
        )

    def referral(self, event: dict[str, Any], referral: dict[str, Any], where: str) -> Parsed:
        where = f"{where}.referral"
        ref = referral.get("ref")
        if not isinstance(ref, str) or not ref:
            return _ignore(where, "a referral without a ref (an ad or a plain link)")
        return self._one(self._synthetic_id("referral"), MessageKind.REFERRAL, ref, referral=ref)

    def reaction(self, event: dict[str, Any], reaction: dict[str, Any], where: str) -> Parsed:
        where = f"{where}.reaction"
        mid = required_id(reaction, "mid", where)
        action = optional_str(reaction, "action", where) or "react"
        emoji = optional_str(reaction, "emoji", where) or ""
        return self._one(
            self._synthetic_id(f"reaction:{mid}"),
            MessageKind.REACTION,
            emoji if action == "react" else "",
            reply_to_provider_id=mid,
        )

    def edit(self, event: dict[str, Any], edit: dict[str, Any], where: str) -> Parsed:
        where = f"{where}.message_edit"
        mid = required_id(edit, "mid", where)
        number = edit.get("num_edit")
        countable = isinstance(number, str | int) and not isinstance(number, bool)
        suffix = str(number) if countable else ""
        return self._one(
            f"{mid}#edit{suffix or int(self.timestamp.timestamp() * 1000)}",
            MessageKind.EDIT,
            optional_str(edit, "text", where) or "",
            reply_to_provider_id=mid,
        )

    def delivery(self, event: dict[str, Any], receipt: dict[str, Any], where: str) -> Parsed:
        return self._receipt("delivered", receipt, f"{where}.delivery")

    def read(self, event: dict[str, Any], receipt: dict[str, Any], where: str) -> Parsed:
        return self._receipt("read", receipt, f"{where}.read")

    def _receipt(self, status: str, receipt: dict[str, Any], where: str) -> Parsed:
        mids = receipt.get("mids")
        if mids is not None and not isinstance(mids, list):
            raise MalformedPayload(f"{where}.mids is not a list")
        ids = [str(mid) for mid in (mids or []) if isinstance(mid, str | int) and mid != ""]
        single_mid = receipt.get("mid")  # Instagram's messaging_seen names the message read
        if isinstance(single_mid, str) and single_mid:
            ids.append(single_mid)
        if ids:
            return Parsed(
                events=[
                    StatusUpdate(
                        channel=self.channel,
                        status=status,
                        timestamp=self.timestamp,
                        provider_message_id=mid,
                    )
                    for mid in ids
                ]
            )
        watermark = receipt.get("watermark")
        if watermark is None:
            return _ignore(where, "a receipt naming no message")
        # The sender of a receipt is the person our messages went to.
        return Parsed(
            events=[
                StatusUpdate(
                    channel=self.channel,
                    status=status,
                    timestamp=self.timestamp,
                    recipient_address=self.sender,
                    watermark=unix_time(watermark, f"{where}.watermark", milliseconds=True),
                )
            ]
        )


def _media_refs(attachments: list[dict[str, Any]], types: set[str]) -> tuple[MediaRef, ...]:
    """The files of a message: images keep their `payload.url` (fetched at once: it
    expires), other files only their kind (they are refused, so their URL is not kept)."""
    if types & (LOCATION_ATTACHMENTS | {STORY_MENTION}):
        return ()
    refs = []
    for attachment in attachments:
        kind = str(attachment.get("type") or "file")
        payload = attachment.get("payload")
        url = payload.get("url") if isinstance(payload, dict) else None
        if kind == "image" and isinstance(url, str) and url:
            refs.append(MediaRef("image", url))
        elif kind != "image":
            refs.append(MediaRef(kind, ""))
    return tuple(refs)
