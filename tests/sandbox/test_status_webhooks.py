"""After a successful send the platform reports progress to the relay, in order."""

from __future__ import annotations

import time

from sandbox.client import SandboxClient
from sandbox.signing import meta_signature, twilio_signature
from tests.sandbox.conftest import (
    INSTAGRAM_ID,
    INSTAGRAM_SECRET,
    TWILIO_TOKEN,
    WHATSAPP_NUMBER_ID,
    WHATSAPP_SECRET,
    FakeRelay,
    Relay,
    wait_until,
)


def test_whatsapp_send_is_followed_by_sent_delivered_read_echoing_the_callback_data(
    relay_sends: Relay, relay: FakeRelay, sandbox_client: SandboxClient
) -> None:
    wamid = relay_sends.whatsapp_text(
        "+6281234567001", "Halo", biz_opaque_callback_data="relay-msg-9"
    ).json()["messages"][0]["id"]

    webhooks = relay.wait_for(3)
    statuses = []
    for webhook in webhooks:
        assert webhook.path == "/webhooks/whatsapp/"
        assert webhook.headers["x-hub-signature-256"] == meta_signature(
            WHATSAPP_SECRET, webhook.body
        )
        value = webhook.json()["entry"][0]["changes"][0]["value"]
        assert value["metadata"]["phone_number_id"] == WHATSAPP_NUMBER_ID
        [status] = value["statuses"]
        assert status["id"] == wamid
        assert status["recipient_id"] == "6281234567001"
        assert status["biz_opaque_callback_data"] == "relay-msg-9"
        statuses.append(status["status"])
    assert statuses == ["sent", "delivered", "read"]
    # The sandbox records each webhook just after the relay has answered it.
    wait_until(lambda: sandbox_client.outbox("ana")[0]["status"] == "read")
    recorded = [(record["kind"], record["status"]) for record in sandbox_client.webhooks()]
    assert recorded == [("status", "sent"), ("status", "delivered"), ("status", "read")]
    assert sandbox_client.outbox("ana")[0]["status"] == "read"


def test_instagram_send_is_followed_by_a_delivery_event_then_a_read_watermark(
    relay_sends: Relay, relay: FakeRelay
) -> None:
    mid = relay_sends.instagram("9100000000000001", "Halo").json()["message_id"]

    delivery, read = relay.wait_for(2)
    for webhook in (delivery, read):
        assert webhook.path == "/webhooks/instagram/"
        assert webhook.headers["x-hub-signature-256"] == meta_signature(
            INSTAGRAM_SECRET, webhook.body
        )
        assert webhook.json()["object"] == "instagram"
        assert webhook.json()["entry"][0]["id"] == INSTAGRAM_ID
    delivery_event = delivery.json()["entry"][0]["messaging"][0]
    read_event = read.json()["entry"][0]["messaging"][0]
    assert delivery_event["sender"] == {"id": "9100000000000001"}
    assert delivery_event["delivery"]["mids"] == [mid]
    assert read_event["read"]["watermark"] >= delivery_event["delivery"]["watermark"]


def test_sms_send_with_a_status_callback_gets_signed_sent_then_delivered(
    relay_sends: Relay, relay: FakeRelay
) -> None:
    callback = relay.url + "/webhooks/sms/status/?attempt=1"
    sid = relay_sends.sms("+14155550100", "Hello", status_callback=callback).json()["sid"]

    sent, delivered = relay.wait_for(2)
    time.sleep(0.1)
    assert len(relay.received) == 2  # SMS has no read receipts
    for webhook, status in ((sent, "sent"), (delivered, "delivered")):
        form = webhook.form()
        assert webhook.path == "/webhooks/sms/status/?attempt=1"
        expected = twilio_signature(TWILIO_TOKEN, callback, form)
        assert webhook.headers["x-twilio-signature"] == expected
        assert form["MessageSid"] == sid
        assert form["MessageStatus"] == form["SmsStatus"] == status
        assert form["To"] == "+14155550100"


def test_sms_send_without_a_status_callback_gets_no_status_webhooks(
    relay_sends: Relay, relay: FakeRelay
) -> None:
    relay_sends.sms("+14155550100", "Hello")

    time.sleep(0.2)
    assert relay.received == []


def test_no_status_webhooks_are_posted_when_auto_status_is_off(
    relay_sends: Relay, relay: FakeRelay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.configure(auto_status=False)

    relay_sends.whatsapp_text("+6281234567001", "Halo")

    time.sleep(0.2)
    assert relay.received == []
    assert sandbox_client.outbox("ana")[0]["status"] == "accepted"


def test_status_webhooks_wait_for_the_configured_delay(
    relay_sends: Relay, relay: FakeRelay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.configure(status_delay_ms=300)

    started = time.monotonic()
    relay_sends.whatsapp_text("+6281234567001", "Halo")

    first = relay.wait_for(1)[0]
    assert first.at - started >= 0.3
