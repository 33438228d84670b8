"""The relay's sends are answered in each platform's shape and land in the person's outbox."""

from __future__ import annotations

import re

import pytest
import requests

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox
from tests.sandbox.conftest import (
    INSTAGRAM_ID,
    SMS_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    WHATSAPP_NUMBER_ID,
    Relay,
)


def test_whatsapp_text_is_answered_like_the_cloud_api_and_lands_in_the_persons_outbox(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    response = relay_sends.whatsapp_text(
        "+6281234567001",
        "Masih ada, kak",
        context={"message_id": "wamid.QUOTED"},
        biz_opaque_callback_data="relay-msg-1",
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "+6281234567001", "wa_id": "6281234567001"}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    [send] = sandbox_client.wait_for_outbox("ana", 1)
    assert send["index"] == 0
    assert send["channel"] == "whatsapp"
    assert send["identity"] == "wa-main"
    assert send["identity_provider_id"] == WHATSAPP_NUMBER_ID
    assert send["to"] == "+6281234567001"
    assert send["type"] == "text"
    assert send["text"] == "Masih ada, kak"
    assert send["reply_to"] == "wamid.QUOTED"
    assert send["callback_data"] == "relay-msg-1"
    assert send["provider_message_id"] == wamid
    assert send["received_at"] > 0


def test_whatsapp_template_is_recorded_with_its_name_language_and_parameters(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    template = {
        "name": "new_message_notice",
        "language": {"code": "id"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sepeda"}]}],
    }
    response = relay_sends.whatsapp(
        {
            "messaging_product": "whatsapp",
            "to": "6281234567099",
            "type": "template",
            "template": template,
        }
    )

    assert response.status_code == 200
    [send] = sandbox_client.outbox("sari-wa")
    assert send["type"] == "template"
    assert send["template_name"] == "new_message_notice"
    assert send["template_language"] == "id"
    assert send["template_params"] == ["Sepeda"]


def test_messenger_send_is_answered_with_recipient_and_mid(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    response = relay_sends.messenger(
        "9200000000000001", "Masih ada", messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT"
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["recipient_id"] == "9200000000000001"
    assert answer["message_id"].startswith("m_")
    [send] = sandbox_client.outbox("citra")
    assert send["channel"] == "messenger"
    assert send["identity"] == "fb-page"
    assert send["messaging_type"] == "MESSAGE_TAG"
    assert send["tag"] == "HUMAN_AGENT"


def test_instagram_send_is_told_apart_from_messenger_by_the_id_in_the_path(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    response = relay_sends.instagram("9100000000000099", "Halo Sari")

    assert response.status_code == 200
    [send] = sandbox_client.outbox("sari-ig")
    assert send["channel"] == "instagram"
    assert send["identity"] == "ig-main"
    assert send["identity_provider_id"] == INSTAGRAM_ID


def test_graph_sends_accept_the_token_as_an_access_token_query_parameter(
    sandbox: RunningSandbox, sandbox_client: SandboxClient
) -> None:
    response = requests.post(
        f"{sandbox.url}/graph/v21.0/{INSTAGRAM_ID}/messages",
        params={"access_token": "test-instagram-token"},
        json={
            "recipient": {"id": "9100000000000001"},
            "messaging_type": "UPDATE",
            "message": {"text": "Hi"},
        },
        timeout=5,
    )
    assert response.status_code == 200
    assert len(sandbox_client.outbox("budi")) == 1


def test_twilio_send_is_answered_201_with_a_message_sid(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    response = relay_sends.sms("+14155550100", "Still available", status_callback=None)

    assert response.status_code == 201
    answer = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", answer["sid"])
    assert answer["status"] == "queued"
    assert answer["to"] == "+14155550100"
    assert answer["from"] == SMS_NUMBER
    assert answer["body"] == "Still available"
    assert answer["account_sid"] == TWILIO_SID
    assert answer["date_created"].endswith("+0000")
    [send] = sandbox_client.outbox("dewi")
    assert send["provider_message_id"] == answer["sid"]
    assert send["identity"] == "sms-main"


def test_a_send_to_an_unknown_address_is_answered_and_kept_in_the_global_outbox(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    response = relay_sends.whatsapp_text("+6289999999999", "Halo?")

    assert response.status_code == 200
    [send] = sandbox_client.outbox()
    assert send["person"] is None
    assert send["to"] == "+6289999999999"
    assert sandbox_client.outbox("ana") == []


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "instagram", "sms"])
def test_a_wrong_token_is_refused_with_401_in_the_platforms_shape(
    channel: str, relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    if channel == "whatsapp":
        response = relay_sends.whatsapp({"messaging_product": "whatsapp"}, token="wrong")
    elif channel == "sms":
        response = relay_sends.sms("+14155550100", "Hi", auth=(TWILIO_SID, "wrong"))
    else:
        object_id = "200000000000001" if channel == "messenger" else INSTAGRAM_ID
        response = relay_sends.page(object_id, "9200000000000001", "Hi", token="wrong")

    assert response.status_code == 401
    if channel == "sms":
        assert response.json()["code"] == 20003
    else:
        assert response.json()["error"]["code"] == 190
    assert sandbox_client.outbox() == []
    assert sandbox_client.rejections()[0]["reason"] in ("bad token", "bad credentials")


def test_a_missing_token_is_refused_with_401(sandbox: RunningSandbox) -> None:
    response = requests.post(
        f"{sandbox.url}/graph/v21.0/{WHATSAPP_NUMBER_ID}/messages", json={}, timeout=5
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "OAuthException"


def test_an_unknown_identity_id_is_refused_in_graph_shape(relay_sends: Relay) -> None:
    response = relay_sends.page("123456", "9200000000000001", "Hi", token="whatever")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert "123456" in error["message"]


def test_a_twilio_send_from_a_number_the_account_does_not_own_is_refused(
    sandbox: RunningSandbox,
) -> None:
    response = requests.post(
        f"{sandbox.url}/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
        data={"To": "+14155550100", "From": "+15559999999", "Body": "Hi"},
        auth=(TWILIO_SID, TWILIO_TOKEN),
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["code"] == 21606


def test_a_whatsapp_text_without_a_body_is_refused_with_graph_error_100(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    response = relay_sends.whatsapp({"messaging_product": "whatsapp", "to": "+6281234567001"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert sandbox_client.outbox() == []


def test_outbox_since_returns_only_newer_sends(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    for number in range(3):
        relay_sends.whatsapp_text("+6281234567001", f"message {number}")

    newer = sandbox_client.outbox("ana", since=1)

    assert [send["text"] for send in newer] == ["message 1", "message 2"]
    assert [send["index"] for send in newer] == [1, 2]


def test_instagram_refuses_a_text_over_1000_bytes_as_meta_does(
    relay_sends: Relay,
) -> None:
    """Instagram's Send API takes at most 1,000 bytes of text: 600 'é' are 1,200 bytes."""
    assert relay_sends.instagram("9100000000000099", "é" * 600).status_code == 400
    assert relay_sends.instagram("9100000000000099", "e" * 600).status_code == 200
