"""A person writing on their phone reaches the relay as that platform's signed webhook."""

from __future__ import annotations

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox
from sandbox.signing import meta_signature, twilio_signature
from tests.sandbox.conftest import (
    INSTAGRAM_ID,
    INSTAGRAM_SECRET,
    MESSENGER_SECRET,
    PAGE_ID,
    SMS_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    WHATSAPP_NUMBER_ID,
    WHATSAPP_SECRET,
    FakeRelay,
)


def test_whatsapp_message_arrives_signed_with_the_whatsapp_app_secret(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    result = sandbox_client.send_inbound("ana", "wa-main", "Apakah sepedanya masih ada? 🚲")

    [webhook] = relay.wait_for(1)
    assert webhook.path == "/webhooks/whatsapp/"
    assert webhook.headers["content-type"] == "application/json"
    assert webhook.headers["x-hub-signature-256"] == meta_signature(WHATSAPP_SECRET, webhook.body)
    payload = webhook.json()
    assert payload["object"] == "whatsapp_business_account"
    value = payload["entry"][0]["changes"][0]["value"]
    assert payload["entry"][0]["changes"][0]["field"] == "messages"
    assert value["metadata"] == {
        "display_phone_number": "15550001111",
        "phone_number_id": WHATSAPP_NUMBER_ID,
    }
    assert value["contacts"] == [{"profile": {"name": "Ana"}, "wa_id": "6281234567001"}]
    [message] = value["messages"]
    assert message["from"] == "6281234567001"
    assert message["id"] == result["provider_message_id"]
    assert message["id"].startswith("wamid.")
    assert message["type"] == "text"
    assert message["text"] == {"body": "Apakah sepedanya masih ada? 🚲"}
    assert "context" not in message
    assert result["relay_status"] == 200
    assert result["relay_body"] == "EVENT_RECEIVED"
    assert result["ack_ms"] > 0


def test_whatsapp_reply_carries_the_quoted_message_and_the_persons_bsuid(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.add_person("eka", "Eka", "whatsapp", "+6281234567002", bsuid="ID.1234567890")

    sandbox_client.send_inbound("eka", "wa-main", "Ya, saya mau", reply_to="wamid.PREVIOUS")

    value = relay.wait_for(1)[0].json()["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0]["user_id"] == "ID.1234567890"
    assert value["messages"][0]["context"] == {"from": "15550001111", "id": "wamid.PREVIOUS"}


def test_whatsapp_photo_arrives_as_an_image_with_caption(
    sandbox_client: SandboxClient, relay: FakeRelay, sandbox: RunningSandbox
) -> None:
    sandbox_client.send_inbound("ana", "wa-main", "Ini fotonya", media=True)

    message = relay.wait_for(1)[0].json()["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == "image"
    assert message["image"]["caption"] == "Ini fotonya"
    assert message["image"]["id"].isdigit()
    assert {"mime_type", "sha256"} <= message["image"].keys()


def test_messenger_message_arrives_as_a_page_event_signed_with_the_messenger_secret(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    result = sandbox_client.send_inbound("citra", "fb-page", "Halo", reply_to="m_earlier")

    [webhook] = relay.wait_for(1)
    assert webhook.path == "/webhooks/messenger/"
    assert webhook.headers["x-hub-signature-256"] == meta_signature(MESSENGER_SECRET, webhook.body)
    payload = webhook.json()
    assert payload["object"] == "page"
    entry = payload["entry"][0]
    assert entry["id"] == PAGE_ID
    [event] = entry["messaging"]
    assert event["sender"] == {"id": "9200000000000001"}
    assert event["recipient"] == {"id": PAGE_ID}
    assert event["message"] == {
        "mid": result["provider_message_id"],
        "text": "Halo",
        "reply_to": {"mid": "m_earlier"},
    }
    assert result["provider_message_id"].startswith("m_")


def test_instagram_message_arrives_as_an_instagram_event_signed_with_the_instagram_secret(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.send_inbound("budi", "ig-main", "", media=True)

    [webhook] = relay.wait_for(1)
    assert webhook.path == "/webhooks/instagram/"
    assert webhook.headers["x-hub-signature-256"] == meta_signature(INSTAGRAM_SECRET, webhook.body)
    payload = webhook.json()
    assert payload["object"] == "instagram"
    event = payload["entry"][0]["messaging"][0]
    assert payload["entry"][0]["id"] == INSTAGRAM_ID
    assert event["sender"] == {"id": "9100000000000001"}
    assert "text" not in event["message"]
    assert event["message"]["attachments"][0]["type"] == "image"


def test_sms_arrives_form_encoded_and_signed_over_the_exact_url_and_sorted_params(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    result = sandbox_client.send_inbound("dewi", "sms-main", "Is it still available?")

    [webhook] = relay.wait_for(1)
    assert webhook.path == "/webhooks/sms/"
    assert webhook.headers["content-type"].startswith("application/x-www-form-urlencoded")
    form = webhook.form()
    expected = twilio_signature(TWILIO_TOKEN, relay.url + "/webhooks/sms/", form)
    assert webhook.headers["x-twilio-signature"] == expected
    sid = result["provider_message_id"]
    assert len(sid) == 34 and sid.startswith("SM")
    assert form["MessageSid"] == form["SmsSid"] == form["SmsMessageSid"] == sid
    assert form["AccountSid"] == TWILIO_SID
    assert form["From"] == "+14155550100"
    assert form["To"] == SMS_NUMBER
    assert form["Body"] == "Is it still available?"
    assert form["NumSegments"] == "1"
    assert form["NumMedia"] == "0"
    assert form["SmsStatus"] == "received"
    assert form["ApiVersion"] == "2010-04-01"
    assert form["FromCountry"] == "US"
    assert "MessagingServiceSid" not in form


def test_sms_with_a_photo_carries_a_media_url_served_only_with_the_account_credentials(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", "Here", media=True)

    form = relay.wait_for(1)[0].form()
    assert form["NumMedia"] == "1"
    assert form["MediaContentType0"] == "image/png"
    # HTTP Basic authentication for media is on: without the account's credentials, 401.
    assert sandbox_client.session.get(form["MediaUrl0"], timeout=5).status_code == 401
    photo = sandbox_client.session.get(
        form["MediaUrl0"], auth=(TWILIO_SID, TWILIO_TOKEN), timeout=5
    )
    assert photo.status_code == 200  # after the redirect to the CDN
    assert photo.content.startswith(b"\x89PNG")


def test_each_inbound_post_is_recorded_with_the_relays_answer(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    relay.status = 403
    result = sandbox_client.send_inbound("ana", "wa-main", "Halo")

    assert result["relay_status"] == 403
    [record] = sandbox_client.webhooks()
    assert record["kind"] == "message"
    assert record["provider_message_id"] == result["provider_message_id"]
    assert record["relay_status"] == 403
    assert record["ms"] > 0
    [sent] = sandbox_client.inbound("ana")
    assert sent["text"] == "Halo" and sent["identity"] == "wa-main"


def test_inbound_to_an_identity_on_another_platform_is_refused(
    sandbox_client: SandboxClient,
) -> None:
    response = sandbox_client.session.post(
        sandbox_client.base_url + "/control/inbound",
        json={"person": "ana", "identity": "fb-page", "text": "Halo"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "whatsapp" in response.json()["error"]


def test_inbound_when_the_relay_is_down_reports_status_zero(relay: FakeRelay) -> None:
    from sandbox.server import start_sandbox
    from tests.sandbox.conftest import make_config

    with start_sandbox(make_config("http://127.0.0.1:9")) as sandbox:
        result = SandboxClient(sandbox.url).send_inbound("ana", "wa-main", "Halo")
    assert result["relay_status"] == 0
    assert "ConnectionError" in result["relay_body"]
