"""Messenger and Instagram: the shared `entry[].messaging[]` webhook and the Send API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from relay.adapters.base import (
    InboundMessage,
    MalformedPayload,
    MediaRef,
    OutboundText,
    PermanentSendError,
    PlatformConfig,
    StatusUpdate,
    TransientSendError,
    WindowClosedError,
)
from relay.adapters.instagram import InstagramAdapter
from relay.adapters.messenger import MessengerAdapter
from relay.adapters.meta import MetaMessagingAdapter
from tests.adapters.conftest import APP_SECRET, FakePlatform, signed_meta_request

PAGE_ID = "1122334455"
PSID = "6789012345"


def config(channel: str, **overrides: Any) -> PlatformConfig:
    settings: dict[str, Any] = {
        "api_base": "https://graph.example/v21.0",
        "access_token": "page-token",
        "app_secret": APP_SECRET,
        "verify_token": "verify-me",
    } | overrides
    return PlatformConfig(channel=channel, **settings)


MESSENGER = MessengerAdapter(config("messenger"))
INSTAGRAM = InstagramAdapter(config("instagram"))


def envelope(*events: dict[str, Any], object_: str = "page", entry_id: str = PAGE_ID) -> dict:
    return {
        "object": object_,
        "entry": [{"id": entry_id, "time": 1458692752478, "messaging": list(events)}],
    }


def event(**body: Any) -> dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1458692752478} | body


def parse(payload: Any, adapter: MetaMessagingAdapter = MESSENGER) -> list[Any]:
    """The events read from a webhook in which every event is readable."""
    parsed = adapter.parse(signed_meta_request(payload))
    assert parsed.rejections == []
    return parsed.events


def rejection_reasons(payload: Any, adapter: MetaMessagingAdapter = MESSENGER) -> list[str]:
    parsed = adapter.parse(signed_meta_request(payload))
    assert parsed.events == []
    return [rejection.reason for rejection in parsed.rejections]


WHEN = dt.datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=dt.UTC)


# --- inbound messages -----------------------------------------------------------------------


def test_messenger_text_with_reply_and_image_becomes_an_inbound_message() -> None:
    message = {
        "mid": "m_abc",
        "text": "hello",
        "reply_to": {"mid": "m_prev"},
        "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/i.jpg"}}],
    }
    assert parse(envelope(event(message=message))) == [
        InboundMessage(
            channel="messenger",
            provider_message_id="m_abc",
            sender_address=PSID,
            identity_provider_id=PAGE_ID,
            text="hello",
            timestamp=WHEN,
            reply_to_provider_id="m_prev",
            has_media=True,
            # The image's URL is kept for the download; it expires, so it is fetched at once.
            media=(MediaRef("image", "https://cdn.example/i.jpg"),),
        )
    ]


def test_attachment_only_message_has_empty_text_and_media() -> None:
    message = {"mid": "m_1", "attachments": [{"type": "audio", "payload": {"url": "u"}}]}
    [inbound] = parse(envelope(event(message=message)))
    assert (inbound.text, inbound.has_media) == ("", True)


def test_recipient_missing_falls_back_to_the_entry_id() -> None:
    raw = event(message={"mid": "m_1", "text": "hi"})
    del raw["recipient"]
    [inbound] = parse(envelope(raw))
    assert inbound.identity_provider_id == PAGE_ID


def test_referral_is_taken_from_the_message_or_the_event() -> None:
    on_message = event(message={"mid": "m_1", "text": "hi", "referral": {"ref": "K7Q2"}})
    on_event = event(
        message={"mid": "m_2", "text": "hi"},
        referral={"ref": "H4ND", "source": "SHORTLINK", "type": "OPEN_THREAD"},
    )
    assert [inbound.referral for inbound in parse(envelope(on_message, on_event))] == [
        "K7Q2",
        "H4ND",
    ]


def test_echoes_are_skipped_on_purpose() -> None:
    echo = {"mid": "m_echo", "text": "our own reply", "is_echo": True, "app_id": 1517776481860111}
    kept = event(message={"mid": "m_keep", "text": "real"})
    parsed = MESSENGER.parse(signed_meta_request(envelope(event(message=echo), kept)))
    assert [inbound.provider_message_id for inbound in parsed.events] == ["m_keep"]
    assert [ignored.what for ignored in parsed.ignored] == ["echo of our own message"]


@pytest.mark.parametrize(
    ("message", "kind"),
    [({"mid": "m_empty"}, "unsupported"), ({"mid": "m_gone", "is_deleted": True}, "delete")],
)
def test_empty_and_unsent_messages_are_read_with_their_kind(
    message: dict[str, Any], kind: str
) -> None:
    [inbound] = parse(envelope(event(message=message)))
    assert inbound.kind == kind


def test_instagram_echo_inside_the_messages_field_is_ignored() -> None:
    echo = {
        "sender": {"id": "17841400000000000"},
        "recipient": {"id": "IGSID-1"},
        "timestamp": 1569262485349,
        "message": {"mid": "aWdfZAG1", "text": "sent by us", "is_echo": True},
    }
    assert parse(envelope(echo, object_="instagram"), INSTAGRAM) == []


def test_instagram_message_is_read_with_its_own_channel() -> None:
    raw = {
        "sender": {"id": "IGSID-1"},
        "recipient": {"id": "17841400000000000"},
        "timestamp": 1569262485349,
        "message": {"mid": "aWdfZAG1", "text": "masih ada?"},
    }
    [inbound] = parse(envelope(raw, object_="instagram", entry_id="17841400000000000"), INSTAGRAM)
    assert (inbound.channel, inbound.sender_address, inbound.identity_provider_id) == (
        "instagram",
        "IGSID-1",
        "17841400000000000",
    )


def test_postback_becomes_a_message_carrying_its_payload() -> None:
    with_mid = event(
        postback={
            "mid": "m_pb",
            "title": "Get Started",
            "payload": "GET_STARTED",
            "referral": {"ref": "K7Q2", "source": "SHORTLINK"},
        }
    )
    without_mid = event(postback={"title": "Yes", "payload": "YES"})
    first, second = parse(envelope(with_mid, without_mid))
    # Get Started from an m.me ?ref= link: the ref (the relay handle) is what the person "said".
    assert (first.provider_message_id, first.text, first.referral, first.kind) == (
        "m_pb",
        "K7Q2",
        "K7Q2",
        "referral",
    )
    assert first.postback_payload == "GET_STARTED"
    # A payload naming no keyword is never forwarded as text: it asks for help.
    assert second.provider_message_id == f"postback:{PSID}:1458692752478"
    assert (second.text, second.kind, second.postback_payload) == ("HELP", "postback", "YES")


def test_every_entry_and_every_event_is_read() -> None:
    payload = envelope(
        event(message={"mid": "m_1", "text": "a"}), event(message={"mid": "m_2", "text": "b"})
    )
    payload["entry"].append(
        {"id": PAGE_ID, "time": 1, "messaging": [event(message={"mid": "m_3", "text": "c"})]}
    )
    assert [inbound.provider_message_id for inbound in parse(payload)] == ["m_1", "m_2", "m_3"]


def test_reactions_and_standalone_referrals_are_read_with_their_kind() -> None:
    reaction = event(reaction={"mid": "m_1", "action": "react", "emoji": "x"})
    referral_only = event(referral={"ref": "K7Q2", "source": "SHORTLINK"})
    first, second = parse(envelope(reaction, referral_only))
    assert (first.kind, first.text, first.reply_to_provider_id) == ("reaction", "x", "m_1")
    assert (second.kind, second.text, second.referral) == ("referral", "K7Q2", "K7Q2")


# --- receipts -------------------------------------------------------------------------------


def test_delivery_receipt_reports_each_message_id() -> None:
    delivery = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "delivery": {"mids": ["m_1", "m_2"], "watermark": 1458668856253},
    }
    assert parse(envelope(delivery)) == [
        StatusUpdate(
            channel="messenger",
            status="delivered",
            timestamp=dt.datetime.fromtimestamp(1458668856.253, dt.UTC),
            provider_message_id=mid,
        )
        for mid in ("m_1", "m_2")
    ]


def test_delivery_receipt_without_ids_is_a_watermark_for_the_person() -> None:
    delivery = event(delivery={"watermark": 1458668856253})
    assert parse(envelope(delivery)) == [
        StatusUpdate(
            channel="messenger",
            status="delivered",
            timestamp=WHEN,
            recipient_address=PSID,
            watermark=dt.datetime.fromtimestamp(1458668856.253, dt.UTC),
        )
    ]


def test_read_receipt_is_a_watermark_for_the_person() -> None:
    [update] = parse(envelope(event(timestamp=1458668856463, read={"watermark": 1458668856253})))
    assert (update.status, update.provider_message_id, update.recipient_address) == (
        "read",
        None,
        PSID,
    )
    assert update.watermark == dt.datetime.fromtimestamp(1458668856.253, dt.UTC)


def test_instagram_seen_event_names_the_message_read() -> None:
    seen = {
        "sender": {"id": "IGSID-1"},
        "recipient": {"id": "17841400000000000"},
        "timestamp": 1569262485349,
        "read": {"mid": "aWdfZAG1"},
    }
    [update] = parse(envelope(seen, object_="instagram"), INSTAGRAM)
    assert (update.channel, update.status, update.provider_message_id) == (
        "instagram",
        "read",
        "aWdfZAG1",
    )


# --- malformed bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'[{"object": "page"}]',
        json.dumps({"object": "instagram", "entry": []}).encode(),
        json.dumps({"object": "whatsapp_business_account", "entry": []}).encode(),
        json.dumps({"object": "page", "entry": {}}).encode(),
        b"[" * 10_000 + b"]" * 10_000,
    ],
)
def test_unreadable_or_foreign_bodies_raise_malformed_payload(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        MESSENGER.parse(signed_meta_request(body))


def test_instagram_refuses_a_page_payload() -> None:
    with pytest.raises(MalformedPayload, match="instagram"):
        parse(envelope(event(message={"mid": "m", "text": "x"})), INSTAGRAM)


@pytest.mark.parametrize(
    "raw",
    [
        {"recipient": {"id": PAGE_ID}, "timestamp": 1, "message": {"mid": "m", "text": "x"}},
        event(sender={}, message={"mid": "m", "text": "x"}),
        event(message={"text": "no mid"}),
        event(message="just text"),
        event(message={"mid": "m", "text": 42}),
        event(message={"mid": "m", "text": "x", "attachments": "nope"}),
        event(timestamp="soon", message={"mid": "m", "text": "x"}),
        event(delivery={"mids": "m_1"}),
    ],
)
def test_events_missing_keys_are_rejected_one_by_one(raw: dict[str, Any]) -> None:
    assert len(rejection_reasons(envelope(raw))) == 1


def test_event_without_any_time_is_rejected_naming_the_timestamp() -> None:
    raw = event(message={"mid": "m", "text": "x"})
    del raw["timestamp"]
    payload = envelope(raw)
    del payload["entry"][0]["time"]
    [reason] = rejection_reasons(payload)
    assert "timestamp" in reason


# --- sending --------------------------------------------------------------------------------


def sender_for(
    platform: FakePlatform,
    adapter_class: type[MetaMessagingAdapter] = MessengerAdapter,
    **overrides: Any,
) -> MetaMessagingAdapter:
    settings = {"api_base": platform.url + "/v21.0", "timeout_seconds": 2.0} | overrides
    return adapter_class(config(adapter_class.channel, **settings))


def test_text_is_sent_as_a_response_to_the_person(platform: FakePlatform) -> None:
    platform.answer(200, {"recipient_id": PSID, "message_id": "m_sent"})
    result = sender_for(platform).send(OutboundText(PAGE_ID, PSID, "y" * 2500))
    assert result.provider_message_id == "m_sent"
    assert platform.last.path == f"/v21.0/{PAGE_ID}/messages"
    assert platform.last.headers["authorization"] == "Bearer page-token"
    assert platform.last.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "y" * 2000},
    }


@pytest.mark.parametrize("adapter_class", [MessengerAdapter, InstagramAdapter])
def test_text_outside_the_window_is_tagged_human_agent(
    platform: FakePlatform, adapter_class: type[MetaMessagingAdapter]
) -> None:
    platform.answer(200, {"recipient_id": PSID, "message_id": "m_sent"})
    sender_for(platform, adapter_class).send(
        OutboundText("17841400000000000", PSID, "hello", outside_window=True)
    )
    assert platform.last.path == "/v21.0/17841400000000000/messages"
    assert platform.last.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "hello"},
    }


def graph_error(code: int, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"({code}) error", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def send(platform: FakePlatform) -> None:
    sender_for(platform).send(OutboundText(PAGE_ID, PSID, "hello"))


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {}),
        (503, graph_error(2)),
        (400, graph_error(1)),
        (400, graph_error(4)),
        (400, graph_error(32)),
        (400, graph_error(613)),
    ],
)
def test_busy_or_failing_platform_is_transient(
    platform: FakePlatform, status: int, body: dict[str, Any]
) -> None:
    platform.answer(status, body)
    with pytest.raises(TransientSendError):
        send(platform)


def test_rate_limit_keeps_the_retry_after_delay(platform: FakePlatform) -> None:
    platform.answer(429, graph_error(613), headers={"Retry-After": "3"})
    with pytest.raises(TransientSendError) as raised:
        send(platform)
    assert raised.value.retry_after == 3.0


@pytest.mark.parametrize(
    "body",
    [
        graph_error(10, 2018278),
        graph_error(10903),
        graph_error(10900),
        graph_error(100, 2534022),
        graph_error(10),
    ],
)
def test_refusal_outside_the_messaging_window_is_window_closed(
    platform: FakePlatform, body: dict[str, Any]
) -> None:
    platform.answer(400, body)
    with pytest.raises(WindowClosedError):
        send(platform)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (graph_error(551, 1545041), "this person isn't available right now"),
        (graph_error(230), "this person's settings don't allow messages"),
        (graph_error(190), "the relay's credentials for this platform were rejected"),
        (graph_error(368), "the platform blocked the message as a policy violation"),
        (graph_error(100), "the platform refused the message"),
    ],
)
def test_other_refusals_are_permanent_with_a_plain_reason(
    platform: FakePlatform, body: dict[str, Any], reason: str
) -> None:
    platform.answer(400, body)
    with pytest.raises(PermanentSendError) as raised:
        send(platform)
    assert not isinstance(raised.value, WindowClosedError)
    assert raised.value.reason == reason
    assert raised.value.code == str(body["error"]["code"])
    assert PSID not in raised.value.reason


def test_platform_that_hangs_is_transient(platform: FakePlatform) -> None:
    platform.answer(200, {"message_id": "late"}, delay=1.5)
    with pytest.raises(TransientSendError):
        sender_for(platform, timeout_seconds=0.3).send(OutboundText(PAGE_ID, PSID, "hello"))
