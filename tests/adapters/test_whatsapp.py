"""WhatsApp Cloud API: reading webhooks and sending texts and templates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from relay.adapters.base import (
    InboundMessage,
    MalformedPayload,
    OutboundText,
    PermanentSendError,
    PlatformConfig,
    StatusUpdate,
    TransientSendError,
    WindowClosedError,
)
from relay.adapters.whatsapp import WhatsAppAdapter
from tests.adapters.conftest import APP_SECRET, FakePlatform, signed_meta_request

CONFIG = PlatformConfig(
    channel="whatsapp",
    api_base="https://graph.example/v21.0",
    access_token="wa-token",
    app_secret=APP_SECRET,
    verify_token="verify-me",
    template_name="new_message_notice",
    template_language="id",
)
ADAPTER = WhatsAppAdapter(CONFIG)
METADATA = {"display_phone_number": "15550001111", "phone_number_id": "106540352242922"}


def envelope(*values: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "102290129340398", "changes": [{"field": field, "value": value}]}
            for value in values
        ],
    }


def message_value(*messages: dict[str, Any], contacts: Any = None) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": dict(METADATA),  # a copy: some tests break it
        "contacts": contacts
        if contacts is not None
        else [{"profile": {"name": "Ana"}, "wa_id": "15550002222", "user_id": "US.1234567890"}],
        "messages": list(messages),
    }


def text_message(**overrides: Any) -> dict[str, Any]:
    return {
        "from": "15550002222",
        "id": "wamid.AAA",
        "timestamp": "1718000000",
        "type": "text",
        "text": {"body": "Is the bike still available?"},
    } | overrides


def parse(payload: Any) -> list[Any]:
    """The events read from a webhook in which every event is readable."""
    parsed = ADAPTER.parse(signed_meta_request(payload))
    assert parsed.rejections == []
    return parsed.events


def rejection_reasons(payload: Any) -> list[str]:
    parsed = ADAPTER.parse(signed_meta_request(payload))
    assert parsed.events == []
    return [rejection.reason for rejection in parsed.rejections]


# --- inbound messages -----------------------------------------------------------------------


def test_text_message_becomes_an_inbound_message_with_e164_sender_and_bsuid() -> None:
    message = text_message(context={"from": "15550001111", "id": "wamid.PREV"})
    assert parse(envelope(message_value(message))) == [
        InboundMessage(
            channel="whatsapp",
            provider_message_id="wamid.AAA",
            sender_address="+15550002222",
            identity_provider_id="106540352242922",
            text="Is the bike still available?",
            timestamp=dt.datetime(2024, 6, 10, 6, 13, 20, tzinfo=dt.UTC),
            sender_key="US.1234567890",
            reply_to_provider_id="wamid.PREV",
        )
    ]


def test_sender_key_comes_from_the_contact_with_the_same_wa_id() -> None:
    contacts = [
        {"wa_id": "15559990000", "user_id": "US.other"},
        {"wa_id": "15550002222", "user_id": "US.mine"},
    ]
    [event] = parse(envelope(message_value(text_message(), contacts=contacts)))
    assert event.sender_key == "US.mine"


def test_message_without_contacts_has_no_sender_key() -> None:
    [event] = parse(envelope(message_value(text_message(), contacts=[])))
    assert event.sender_key is None
    assert event.sender_address == "+15550002222"


def test_user_who_hides_their_number_is_addressed_by_bsuid() -> None:
    message = text_message()
    del message["from"]
    contacts = [{"profile": {"username": "ana.b"}, "user_id": "US.13491208655302741918"}]
    [event] = parse(envelope(message_value(message, contacts=contacts)))
    assert event.sender_address == "US.13491208655302741918"
    assert event.sender_key == "US.13491208655302741918"


@pytest.mark.parametrize(
    ("message", "text", "has_media"),
    [
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "yes", "title": "Yes, still for sale"},
                },
            },
            "Yes, still for sale",
            False,
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "r1", "title": "Blue", "description": "size M"},
                },
            },
            "Blue",
            False,
        ),
        ({"type": "button", "button": {"text": "Read it", "payload": "open"}}, "Read it", False),
        (
            {
                "type": "image",
                "image": {
                    "id": "m1",
                    "mime_type": "image/jpeg",
                    "sha256": "x",
                    "caption": "the scratch",
                },
            },
            "the scratch",
            True,
        ),
        ({"type": "audio", "audio": {"id": "m2", "mime_type": "audio/ogg"}}, "", True),
        ({"type": "video", "video": {"id": "m3", "mime_type": "video/mp4"}}, "", True),
        ({"type": "document", "document": {"id": "m4", "filename": "a.pdf"}}, "", True),
        ({"type": "sticker", "sticker": {"id": "m5", "animated": False}}, "", True),
        ({"type": "location", "location": {"latitude": 1.0, "longitude": 2.0}}, "", True),
    ],
)
def test_non_text_messages_carry_their_visible_words_and_a_media_flag(
    message: dict[str, Any], text: str, has_media: bool
) -> None:
    base = text_message()
    del base["text"]
    [event] = parse(envelope(message_value(base | message)))
    assert (event.text, event.has_media) == (text, has_media)


@pytest.mark.parametrize(
    ("kind", "read_as"), [("reaction", "reaction"), ("unsupported", "unsupported")]
)
def test_reactions_and_unsupported_messages_are_read_with_their_kind(
    kind: str, read_as: str
) -> None:
    other = text_message(id="wamid.OTHER", type=kind, **{kind: {"body": "x"}})
    kept = text_message(id="wamid.KEEP")
    events = parse(envelope(message_value(other, kept)))
    assert [(event.provider_message_id, event.kind) for event in events] == [
        ("wamid.OTHER", read_as),
        ("wamid.KEEP", "text"),
    ]


def test_system_notices_are_skipped_on_purpose() -> None:
    notice = text_message(id="wamid.SKIP", type="system", system={"body": "x"})
    parsed = ADAPTER.parse(signed_meta_request(envelope(message_value(notice))))
    assert (parsed.events, parsed.rejections) == ([], [])
    assert [ignored.where for ignored in parsed.ignored] == [
        "entry[0].changes[0].value.messages[0]"
    ]


def test_every_entry_and_change_is_read_and_other_fields_are_ignored() -> None:
    payload = envelope(
        message_value(text_message(id="wamid.1"), text_message(id="wamid.2")),
        message_value(text_message(id="wamid.3")),
    )
    payload["entry"][0]["changes"].append(
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
    )
    payload["entry"][1]["changes"].append(
        {
            "field": "messages",
            "value": {
                "metadata": METADATA,
                "statuses": [
                    {
                        "id": "wamid.OUT",
                        "status": "sent",
                        "timestamp": "1718000001",
                        "recipient_id": "15550002222",
                    }
                ],
            },
        }
    )
    events = parse(payload)
    assert [event.provider_message_id for event in events] == [
        "wamid.1",
        "wamid.2",
        "wamid.3",
        "wamid.OUT",
    ]


# --- statuses -------------------------------------------------------------------------------


def status(state: str, timestamp: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "wamid.OUT",
        "status": state,
        "timestamp": timestamp,
        "recipient_id": "15550002222",
        "biz_opaque_callback_data": "relay-msg-1",
    } | extra


def test_statuses_out_of_order_are_all_reported_with_their_own_times() -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "statuses": [
            status("read", "1718000300"),
            status(
                "sent",
                "1718000100",
                conversation={"id": "c", "origin": {"type": "service"}},
                pricing={"billable": True, "pricing_model": "CBP", "category": "service"},
            ),
            status("delivered", "1718000200"),
        ],
    }
    events = parse(envelope(value))
    assert [(event.status, int(event.timestamp.timestamp())) for event in events] == [
        ("read", 1718000300),
        ("sent", 1718000100),
        ("delivered", 1718000200),
    ]
    assert all(event.provider_message_id == "wamid.OUT" for event in events)


def test_failed_status_carries_the_first_error_code_and_title() -> None:
    failed = status(
        "failed",
        "1718000100",
        errors=[
            {"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message"},
            {"code": 1, "title": "other"},
        ],
    )
    [event] = parse(envelope({"metadata": METADATA, "statuses": [failed]}))
    assert event == StatusUpdate(
        channel="whatsapp",
        status="failed",
        timestamp=dt.datetime.fromtimestamp(1718000100, dt.UTC),
        provider_message_id="wamid.OUT",
        error_code="131047",
        error_title="Re-engagement message",
    )


def test_unknown_status_strings_are_ignored() -> None:
    value = {"metadata": METADATA, "statuses": [status("deleted", "1"), status("warning", "2")]}
    assert parse(envelope(value)) == []


# --- malformed bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"not json at all", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'"whatsapp_business_account"', "not a JSON object"),
        (json.dumps({"object": "page", "entry": []}).encode(), "object"),
        (json.dumps({"entry": []}).encode(), "object"),
        (json.dumps({"object": "whatsapp_business_account", "entry": {}}).encode(), "entry"),
        (b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
    ],
)
def test_unreadable_bodies_raise_malformed_payload(body: bytes, complaint: str) -> None:
    with pytest.raises(MalformedPayload, match=complaint):
        ADAPTER.parse(signed_meta_request(body))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda value: value.pop("metadata"),
        lambda value: value["metadata"].pop("phone_number_id"),
        lambda value: value["messages"][0].pop("id"),
        lambda value: value["messages"][0].pop("timestamp"),
        lambda value: value["messages"][0].update(timestamp="yesterday"),
        lambda value: value["messages"][0].update(text="just a string"),
        lambda value: value["messages"][0].update(context=["wamid.PREV"]),
        lambda value: value.update(messages={"id": "x"}),
        lambda value: value.update(messages=[None]),
        lambda value: value.update(contacts=[], messages=[text_message(**{"from": None})]),
    ],
)
def test_missing_or_mistyped_keys_are_rejected_one_by_one(breakage: Any) -> None:
    value = message_value(text_message())
    breakage(value)
    assert len(rejection_reasons(envelope(value))) == 1


def test_an_entry_that_is_not_an_object_is_rejected_alone() -> None:
    payload = envelope(message_value(text_message()))
    payload["entry"].insert(0, "x")
    parsed = ADAPTER.parse(signed_meta_request(payload))
    assert [r.where for r in parsed.rejections] == ["entry[0]"]
    assert [e.provider_message_id for e in parsed.events] == ["wamid.AAA"]


def test_status_without_an_id_is_rejected_naming_its_position() -> None:
    broken = status("sent", "1718000100")
    del broken["id"]
    parsed = ADAPTER.parse(
        signed_meta_request(envelope({"metadata": METADATA, "statuses": [broken]}))
    )
    assert [r.where for r in parsed.rejections] == ["entry[0].changes[0].value.statuses[0]"]


def test_rejection_reasons_never_echo_addresses_or_text() -> None:
    value = message_value(text_message(timestamp="+15550002222 Is the bike available?"))
    [reason] = rejection_reasons(envelope(value))
    assert "15550002222" not in reason
    assert "bike" not in reason


# --- sending --------------------------------------------------------------------------------


def adapter_for(platform: FakePlatform, **overrides: Any) -> WhatsAppAdapter:
    settings: dict[str, Any] = {
        "api_base": platform.url + "/v21.0",
        "timeout_seconds": 2.0,
    } | overrides
    return WhatsAppAdapter(dataclasses.replace(CONFIG, **settings))


OK = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "+15550002222", "wa_id": "15550002222"}],
    "messages": [{"id": "wamid.CCC"}],
}


def graph_error(code: int, message: str = "error") -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        }
    }


def test_text_is_posted_to_the_phone_number_with_context_and_callback_data(
    platform: FakePlatform,
) -> None:
    platform.answer(200, OK)
    result = adapter_for(platform).send(
        OutboundText(
            identity_provider_id="106540352242922",
            to_address="+15550002222",
            text="x" * 5000,
            callback_data="relay-msg-" + "9" * 600,
            reply_to_provider_id="wamid.PREV",
        )
    )
    assert result.provider_message_id == "wamid.CCC"
    sent = platform.last
    assert sent.path == "/v21.0/106540352242922/messages"
    assert sent.headers["authorization"] == "Bearer wa-token"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+15550002222",
        "type": "text",
        "text": {"preview_url": False, "body": "x" * 4096},
        "context": {"message_id": "wamid.PREV"},
        "biz_opaque_callback_data": ("relay-msg-" + "9" * 600)[:512],
    }


def test_plain_text_without_extras_sends_neither_context_nor_callback_data(
    platform: FakePlatform,
) -> None:
    platform.answer(200, OK)
    adapter_for(platform).send(OutboundText("106540352242922", "+15550002222", "hi"))
    assert "context" not in platform.last.json()
    assert "biz_opaque_callback_data" not in platform.last.json()


def test_template_is_sent_with_its_body_parameters(platform: FakePlatform) -> None:
    platform.answer(200, OK)
    adapter_for(platform).send(
        OutboundText(
            identity_provider_id="106540352242922",
            to_address="+15550002222",
            text="ignored",
            callback_data="relay-msg-1",
            use_template=True,
            template_parameters=("Sepeda lipat", "K7Q2"),
        )
    )
    assert platform.last.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+15550002222",
        "type": "template",
        "template": {
            "name": "new_message_notice",
            "language": {"code": "id"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Sepeda lipat"},
                        {"type": "text", "text": "K7Q2"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": "relay-msg-1",
    }


def test_template_send_without_a_configured_template_fails_permanently() -> None:
    adapter = WhatsAppAdapter(dataclasses.replace(CONFIG, template_name=""))
    with pytest.raises(PermanentSendError, match="template"):
        adapter.send(OutboundText("1", "+15550002222", "hi", use_template=True))


def send(platform: FakePlatform) -> None:
    adapter_for(platform).send(OutboundText("106540352242922", "+15550002222", "hello"))


def test_server_error_is_transient(platform: FakePlatform) -> None:
    platform.answer(500, {"error": {"message": "oops"}})
    with pytest.raises(TransientSendError):
        send(platform)


def test_rate_limit_is_transient_and_keeps_the_retry_after_delay(platform: FakePlatform) -> None:
    platform.answer(429, graph_error(130429), headers={"Retry-After": "3"})
    with pytest.raises(TransientSendError) as raised:
        send(platform)
    assert raised.value.retry_after == 3.0
    assert raised.value.code == "130429"


@pytest.mark.parametrize("code", [4, 80007, 130429, 131048, 131056, 613, 1, 2, 131000, 131016])
def test_rate_limit_and_temporary_graph_codes_are_transient(
    platform: FakePlatform, code: int
) -> None:
    platform.answer(400, graph_error(code))
    with pytest.raises(TransientSendError) as raised:
        send(platform)
    assert raised.value.code == str(code)
    assert raised.value.retry_after is None


def test_closed_customer_service_window_is_reported_as_such(platform: FakePlatform) -> None:
    platform.answer(400, graph_error(131047, "Re-engagement message"))
    with pytest.raises(WindowClosedError) as raised:
        send(platform)
    assert raised.value.reason == "more than 24 hours have passed since the recipient last wrote"
    assert raised.value.code == "131047"


@pytest.mark.parametrize(
    ("status", "body", "reason", "code"),
    [
        (
            400,
            graph_error(131026),
            "the recipient's WhatsApp account cannot receive messages",
            "131026",
        ),
        (401, graph_error(190), "the relay's WhatsApp credentials were rejected", "190"),
        (401, {}, "the relay's WhatsApp credentials were rejected", "401"),
        (
            400,
            graph_error(100, "Invalid parameter +15550002222"),
            "WhatsApp refused the message",
            "100",
        ),
        (404, "<html>not found</html>", "WhatsApp refused the message", ""),
    ],
)
def test_other_refusals_are_permanent_in_plain_words_without_the_address(
    platform: FakePlatform, status: int, body: Any, reason: str, code: str
) -> None:
    platform.answer(status, body)
    with pytest.raises(PermanentSendError) as raised:
        send(platform)
    assert not isinstance(raised.value, WindowClosedError)
    assert (raised.value.reason, raised.value.code) == (reason, code)
    assert "15550002222" not in str(raised.value)


def test_success_without_a_message_id_is_transient(platform: FakePlatform) -> None:
    platform.answer(200, {"messaging_product": "whatsapp"})
    with pytest.raises(TransientSendError):
        send(platform)


def test_platform_that_does_not_answer_in_time_is_transient(platform: FakePlatform) -> None:
    platform.answer(200, OK, delay=1.5)
    adapter = adapter_for(platform, timeout_seconds=0.3)
    with pytest.raises(TransientSendError, match="did not answer in time"):
        adapter.send(OutboundText("106540352242922", "+15550002222", "hello"))


def test_a_status_that_is_not_a_string_is_skipped_not_a_crash() -> None:
    # Found by tests/adapters/test_webhook_fuzz.py: `[] in frozenset(...)` raises TypeError.
    odd = status("sent", "1718000100") | {"status": []}
    parsed = ADAPTER.parse(signed_meta_request(envelope({"metadata": METADATA, "statuses": [odd]})))
    assert (parsed.events, parsed.rejections, len(parsed.ignored)) == ([], [], 1)
