"""Webhook front doors: handshake, signatures, bad input, duplicates. Each answer is defined."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from contacts.models import Endpoint
from relay import services as relay
from relay.crypto import provider_key
from relay.models import Delivery, Message
from sandbox.signing import meta_signature, twilio_signature

WA_SECRET = "sandbox-whatsapp-secret"
TWILIO_TOKEN = "sandbox-twilio-token"


@pytest.fixture
def identities(db: None) -> None:
    relay.add_relay_identity(
        channel="whatsapp", provider_id="100000000000001", address="15550001111"
    )
    relay.add_relay_identity(channel="sms", provider_id="+15550002222", address="+15550002222")


def whatsapp_payload(
    text: str = "hello", wamid: str = "wamid.TEST1", phone_id: str = "100000000000001"
) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "WABA",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550001111",
                                    "phone_number_id": phone_id,
                                },
                                "contacts": [
                                    {"profile": {"name": "Ana"}, "wa_id": "6281234567001"}
                                ],
                                "messages": [
                                    {
                                        "from": "6281234567001",
                                        "id": wamid,
                                        "timestamp": "1718000000",
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def post_whatsapp(client: Client, body: bytes, *, secret: str = WA_SECRET, **extra: Any) -> Any:
    return client.post(
        "/webhooks/whatsapp/",
        data=body,
        content_type=extra.pop("content_type", "application/json"),
        HTTP_X_HUB_SIGNATURE_256=meta_signature(secret, body),
        **extra,
    )


def test_meta_verification_handshake_echoes_the_challenge_only_for_the_right_token(
    client: Client,
) -> None:
    ok = client.get(
        "/webhooks/whatsapp/",
        {
            "hub.mode": "subscribe",
            "hub.verify_token": "sandbox-verify",
            "hub.challenge": "1158201444",
        },
    )
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    wrong = client.get(
        "/webhooks/messenger/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403


def test_a_bad_signature_is_rejected_with_403_and_creates_nothing(
    client: Client, identities: None
) -> None:
    response = post_whatsapp(client, whatsapp_payload(), secret="not-the-app-secret")
    assert response.status_code == 403
    assert b"Invalid signature" in response.content
    assert not Message.objects.exists()
    assert not Endpoint.objects.filter(channel="whatsapp").exists()
    assert not Delivery.objects.exists()


def test_a_missing_signature_is_rejected(client: Client, identities: None) -> None:
    response = client.post(
        "/webhooks/whatsapp/", data=whatsapp_payload(), content_type="application/json"
    )
    assert response.status_code == 403


def test_the_same_webhook_delivered_twice_creates_one_message(
    client: Client, identities: None, seller: Any
) -> None:
    from decimal import Decimal

    from marketplace import services as marketplace
    from marketplace.handles import live_handle

    listing = marketplace.create_listing(seller=seller, title="Bike", price=Decimal(1))
    handle = live_handle(listing)
    assert handle is not None
    body = whatsapp_payload(f"{handle.display} still there?", wamid="wamid.DUP")
    assert post_whatsapp(client, body).status_code == 200
    assert post_whatsapp(client, body).status_code == 200
    assert Message.objects.filter(provider_message_id=provider_key("wamid.DUP")).count() == 1
    assert Delivery.objects.filter(kind="relay").count() == 1


def test_malformed_json_gets_400_with_the_reason(client: Client, identities: None) -> None:
    response = post_whatsapp(client, b"{not json")
    assert response.status_code == 400
    assert b"Malformed whatsapp payload" in response.content
    assert not Message.objects.exists()


def test_a_wrong_object_type_gets_400(client: Client, identities: None) -> None:
    response = post_whatsapp(client, json.dumps({"object": "page", "entry": []}).encode())
    assert response.status_code == 400


def test_a_wrong_content_type_gets_415(client: Client, identities: None) -> None:
    response = post_whatsapp(client, whatsapp_payload(), content_type="text/plain")
    assert response.status_code == 415
    assert b"application/json" in response.content


def test_a_one_megabyte_body_gets_413_and_creates_nothing(client: Client, identities: None) -> None:
    body = whatsapp_payload("x" * (1024 * 1024))
    response = post_whatsapp(client, body)
    assert response.status_code == 413
    assert b"too large" in response.content
    assert not Message.objects.exists()


def test_an_unknown_platform_is_a_404(client: Client) -> None:
    assert (
        client.post("/webhooks/telegram/", data=b"{}", content_type="application/json").status_code
        == 404
    )


def test_a_message_to_an_identity_we_do_not_have_is_acknowledged_and_dropped(
    client: Client, identities: None
) -> None:
    response = post_whatsapp(client, whatsapp_payload(phone_id="999"))
    assert response.status_code == 200
    assert not Message.objects.exists() and not Delivery.objects.exists()


def test_twilio_webhooks_are_checked_over_the_full_url_and_answered_with_empty_twiml(
    client: Client, identities: None
) -> None:
    params = {
        "MessageSid": "SM" + "a" * 32,
        "From": "+14155550100",
        "To": "+15550002222",
        "Body": "HELP",
        "NumMedia": "0",
        "AccountSid": "AC" + "0" * 32,
    }
    url = "http://testserver/webhooks/sms/"
    good = client.post(
        "/webhooks/sms/",
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=twilio_signature(TWILIO_TOKEN, url, params),
    )
    assert good.status_code == 200
    assert good["Content-Type"].startswith("text/xml")
    assert b"<Response/>" in good.content
    assert Delivery.objects.filter(notice_code="help").count() == 1
    forged = {**params, "MessageSid": "SM" + "b" * 32, "Body": "changed"}
    bad = client.post(
        "/webhooks/sms/",
        data=urlencode(forged),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=twilio_signature(TWILIO_TOKEN, url, params),
    )
    assert bad.status_code == 403


def test_a_garbled_content_length_gets_400(client: Client, identities: None) -> None:
    body = whatsapp_payload()
    response = post_whatsapp(client, body, CONTENT_LENGTH="12abc")
    assert response.status_code == 400
    assert b"Content-Length" in response.content
