"""The sandbox speaks every inbound shape the relay reads, as the platforms document them.

Each webhook the sandbox posts is handed to the relay's own adapter, so the sandbox and the
adapters cannot drift apart unnoticed (the adapters are checked against the platforms' pages
in tests/adapters/test_documented_payloads.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from relay.adapters.base import PlatformConfig, WebhookRequest
from relay.adapters.instagram import InstagramAdapter
from relay.adapters.messenger import MessengerAdapter
from relay.adapters.whatsapp import WhatsAppAdapter
from sandbox.client import SandboxClient
from sandbox.signing import meta_signature
from tests.sandbox.conftest import (
    INSTAGRAM_SECRET,
    MESSENGER_SECRET,
    WHATSAPP_SECRET,
    FakeRelay,
    Received,
)

SECRETS = {
    "whatsapp": WHATSAPP_SECRET,
    "messenger": MESSENGER_SECRET,
    "instagram": INSTAGRAM_SECRET,
}
ADAPTERS = {
    "whatsapp": WhatsAppAdapter,
    "messenger": MessengerAdapter,
    "instagram": InstagramAdapter,
}


def read(platform: str, webhook: Received) -> Any:
    assert webhook.headers["x-hub-signature-256"] == meta_signature(SECRETS[platform], webhook.body)
    config = PlatformConfig(
        channel=platform, api_base="http://unused", access_token="x", app_secret=SECRETS[platform]
    )
    parsed = ADAPTERS[platform](config).parse(
        WebhookRequest("POST", "http://relay/", dict(webhook.headers), webhook.body)
    )
    assert parsed.rejections == []
    [event] = parsed.events
    return event


def test_a_whatsapp_contact_card_is_an_array_of_cards(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.send_contact_card("ana", "wa-main")
    [webhook] = relay.wait_for(1)
    [message] = webhook.json()["entry"][0]["changes"][0]["value"]["messages"]
    assert message["type"] == "contacts" and isinstance(message["contacts"], list)
    assert read("whatsapp", webhook).kind == "contacts"


def test_a_whatsapp_group_message_carries_its_group_id(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.send_group_message("ana", "wa-main", "What do you all think?")
    [webhook] = relay.wait_for(1)
    assert read("whatsapp", webhook).kind == "group"


def test_a_whatsapp_username_only_user_arrives_with_a_bsuid_and_no_number(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.add_person(
        "eka", "Eka", "whatsapp", "+6281234567005", bsuid="ID.13491208655302741918"
    )
    sandbox_client.send_as_username_only("eka", "wa-main", "Masih ada?")
    [webhook] = relay.wait_for(1)
    value = webhook.json()["entry"][0]["changes"][0]["value"]
    assert "from" not in value["messages"][0] and "wa_id" not in value["contacts"][0]
    event = read("whatsapp", webhook)
    assert (event.sender_address, event.sender_key) == (
        "ID.13491208655302741918",
        "ID.13491208655302741918",
    )
    assert "6281234567005" not in webhook.body.decode()


def test_a_username_only_send_needs_a_person_with_a_bsuid(sandbox_client: SandboxClient) -> None:
    with pytest.raises(Exception, match="bsuid"):
        sandbox_client.send_as_username_only("ana", "wa-main", "hi")


def test_a_click_to_whatsapp_ad_referral_is_a_text_with_source_fields(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.open_referral("ana", "wa-main", text="Is it still for sale?")
    [webhook] = relay.wait_for(1)
    event = read("whatsapp", webhook)
    assert (event.kind, event.text, event.referral) == ("text", "Is it still for sale?", None)


@pytest.mark.parametrize(("person", "identity", "platform"), [
    ("citra", "fb-page", "messenger"),
    ("budi", "ig-main", "instagram"),
])  # fmt: skip
@pytest.mark.parametrize(
    ("shape", "kind", "text"),
    [("postback", "referral", "K7Q2"), ("event", "referral", "K7Q2"), ("message", "text", "Hi")],
)
def test_all_three_deep_link_referral_shapes_carry_the_ref(
    sandbox_client: SandboxClient,
    relay: FakeRelay,
    person: str,
    identity: str,
    platform: str,
    shape: str,
    kind: str,
    text: str,
) -> None:
    sandbox_client.open_referral(person, identity, ref="K7Q2", shape=shape)
    [webhook] = relay.wait_for(1)
    event = read(platform, webhook)
    assert (event.kind, event.text, event.referral) == (kind, text, "K7Q2")


def test_get_started_and_menu_postbacks_are_commands_not_text(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.tap_get_started("citra", "fb-page")
    sandbox_client.tap_get_started("citra", "fb-page", ref="K7Q2")
    sandbox_client.tap_menu("citra", "fb-page", "MENU_REPORT", title="Report")
    events = [read("messenger", webhook) for webhook in relay.wait_for(3)]
    assert [(e.kind, e.text, e.postback_payload) for e in events] == [
        ("postback", "HELP", "GET_STARTED"),
        ("referral", "K7Q2", "GET_STARTED"),
        ("postback", "REPORT", "MENU_REPORT"),
    ]


def test_a_shape_the_channel_does_not_have_is_refused_by_the_control_api(
    sandbox_client: SandboxClient,
) -> None:
    with pytest.raises(Exception, match="not a WhatsApp shape"):
        sandbox_client.send_shape("ana", "wa-main", "menu")
    with pytest.raises(Exception, match="needs a ref"):
        sandbox_client.open_referral("citra", "fb-page", shape="event")
