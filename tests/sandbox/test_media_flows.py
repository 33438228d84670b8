"""The relay's adapters against the sandbox's media flows, shape by shape: what a person's photo
looks like in each platform's webhook, how it is downloaded (with which credentials, until
when), and how a photo is sent back. No database: adapters and the sandbox over loopback."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from relay.adapters import http
from relay.adapters.base import (
    Adapter,
    InboundMessage,
    MediaRef,
    MediaUnavailable,
    OutboundMedia,
    OutboundText,
    PermanentSendError,
    PlatformConfig,
    WebhookRequest,
)
from relay.adapters.instagram import InstagramAdapter
from relay.adapters.messenger import MessengerAdapter
from relay.adapters.sms import SmsAdapter
from relay.adapters.url_guard import RefusedUrl
from relay.adapters.whatsapp import WhatsAppAdapter
from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox
from tests.sandbox.conftest import (
    INSTAGRAM_ID,
    INSTAGRAM_SECRET,
    INSTAGRAM_TOKEN,
    MESSENGER_SECRET,
    MESSENGER_TOKEN,
    PAGE_ID,
    SMS_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    WHATSAPP_NUMBER_ID,
    WHATSAPP_SECRET,
    WHATSAPP_TOKEN,
    FakeRelay,
)


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()


def adapter(kind: type[Adapter], sandbox: RunningSandbox, token: str, secret: str) -> Any:
    base = sandbox.url + ("/twilio" if kind is SmsAdapter else "/graph/v21.0")
    return kind(PlatformConfig(kind.channel, base, access_token=token, app_secret=secret))


@pytest.fixture
def whatsapp(sandbox: RunningSandbox) -> WhatsAppAdapter:
    return adapter(WhatsAppAdapter, sandbox, WHATSAPP_TOKEN, WHATSAPP_SECRET)


@pytest.fixture
def messenger(sandbox: RunningSandbox) -> MessengerAdapter:
    return adapter(MessengerAdapter, sandbox, MESSENGER_TOKEN, MESSENGER_SECRET)


@pytest.fixture
def instagram(sandbox: RunningSandbox) -> InstagramAdapter:
    return adapter(InstagramAdapter, sandbox, INSTAGRAM_TOKEN, INSTAGRAM_SECRET)


@pytest.fixture
def sms(sandbox: RunningSandbox) -> SmsAdapter:
    return adapter(SmsAdapter, sandbox, TWILIO_SID, TWILIO_TOKEN)


def inbound_media(adapter: Adapter, relay: FakeRelay) -> MediaRef:
    """The MediaRef the adapter reads from the sandbox's (signed) webhook."""
    [webhook] = relay.wait_for(1)
    request = WebhookRequest(
        "POST",
        relay.url + webhook.path,
        webhook.headers,
        webhook.body,
        content_type=webhook.headers.get("content-type", ""),
    )
    assert adapter.verify(request)
    [event] = adapter.parse(request).events
    assert isinstance(event, InboundMessage)
    [ref] = event.media
    return ref


def download(adapter: Adapter, ref: MediaRef, max_bytes: int = 1_000_000) -> bytes:
    return adapter.download_media(ref, max_bytes=max_bytes, total_seconds=3.0)


def test_whatsapp_photo_is_an_id_whose_url_downloads_only_with_the_bearer_token(
    sandbox_client: SandboxClient,
    relay: FakeRelay,
    whatsapp: WhatsAppAdapter,
    sandbox: RunningSandbox,
) -> None:
    photo = a_photo()
    sandbox_client.send_inbound("ana", "wa-main", "the scratch", photo=photo)
    ref = inbound_media(whatsapp, relay)
    assert ref.kind == "image" and ref.reference.isdigit()  # a media id, not a URL
    assert download(whatsapp, ref) == photo
    assert (
        sandbox_client.session.get(f"{sandbox.url}/whatsapp-media/{ref.reference}").status_code
        == 401
    )
    wrong = adapter(WhatsAppAdapter, sandbox, "not-the-token", WHATSAPP_SECRET)
    with pytest.raises(MediaUnavailable):
        download(wrong, ref)


def test_messenger_attachment_url_downloads_until_it_expires(
    sandbox_client: SandboxClient, relay: FakeRelay, messenger: MessengerAdapter
) -> None:
    photo = a_photo()
    sandbox_client.send_inbound("citra", "fb-page", "", photo=photo)
    ref = inbound_media(messenger, relay)
    assert ref.reference.startswith("http") and download(messenger, ref) == photo
    sandbox_client.configure(attachment_url_seconds=0)  # expired as soon as it is sent
    relay.received.clear()
    sandbox_client.send_inbound("citra", "fb-page", "", photo=photo)
    with pytest.raises(MediaUnavailable):
        download(messenger, inbound_media(messenger, relay))


def test_twilio_media_url_needs_the_account_credentials_then_redirects(
    sandbox_client: SandboxClient, relay: FakeRelay, sms: SmsAdapter, sandbox: RunningSandbox
) -> None:
    photo = a_photo()
    sandbox_client.send_inbound("dewi", "sms-main", "here", photo=photo)
    ref = inbound_media(sms, relay)
    assert download(sms, ref) == photo
    stranger = adapter(SmsAdapter, sandbox, TWILIO_SID, "wrong-token")
    with pytest.raises(MediaUnavailable):
        download(stranger, ref)


def test_a_download_is_bounded_in_bytes_and_time(
    sandbox_client: SandboxClient, relay: FakeRelay, messenger: MessengerAdapter
) -> None:
    sandbox_client.send_inbound("citra", "fb-page", "", photo=a_photo(), photo_pad_to=2_000_000)
    with pytest.raises(http.DownloadTooLarge):
        download(messenger, inbound_media(messenger, relay), max_bytes=1_000_000)
    relay.received.clear()
    sandbox_client.send_inbound("citra", "fb-page", "", photo=a_photo(), photo_delay_ms=5000)
    with pytest.raises(http.DownloadTooSlow):
        download(messenger, inbound_media(messenger, relay))


def test_a_url_into_a_private_network_is_refused_before_any_connection(
    messenger: MessengerAdapter,
) -> None:
    with pytest.raises(RefusedUrl):
        download(messenger, MediaRef("image", "http://169.254.169.254/latest/meta-data/"))


def outbound(to: str, identity: str, text: str, photo: bytes, **extra: str) -> OutboundText:
    media = OutboundMedia(photo, "image/jpeg", "photo.jpg", **extra)
    return OutboundText(identity_provider_id=identity, to_address=to, text=text, media=(media,))


def test_whatsapp_uploads_the_photo_then_sends_it_by_id_with_the_caption(
    sandbox_client: SandboxClient, whatsapp: WhatsAppAdapter
) -> None:
    photo = a_photo()
    whatsapp.send(outbound("+6281234567001", WHATSAPP_NUMBER_ID, "the receipt", photo))
    [send] = sandbox_client.outbox("ana")
    assert (send["type"], send["text"]) == ("image", "the receipt")
    assert send["photos"][0]["size"] == len(photo)


def test_whatsapp_deletes_each_upload_after_the_send_and_only_its_number_may(
    sandbox: RunningSandbox, sandbox_client: SandboxClient, whatsapp: WhatsAppAdapter
) -> None:
    whatsapp.send(outbound("+6281234567001", WHATSAPP_NUMBER_ID, "the receipt", a_photo()))
    [upload] = sandbox_client.uploads()
    assert upload == {"id": upload["id"], "phone_number_id": WHATSAPP_NUMBER_ID, "deleted": True}
    # Gone from the platform: a lookup of the id, or a second delete, finds nothing.
    auth = {"Authorization": f"Bearer {WHATSAPP_TOKEN}"}
    lookup = http.get(
        f"{sandbox.url}/graph/v21.0/{upload['id']}",
        headers=auth,
        timeout=3,
        max_bytes=10_000,
        total_seconds=3,
    )
    assert lookup.status_code == 400
    again = http.delete(f"{sandbox.url}/graph/v21.0/{upload['id']}", headers=auth, timeout=3)
    assert again.status_code == 400


def test_a_whatsapp_upload_deleted_by_another_number_or_token_stays(
    sandbox: RunningSandbox, sandbox_client: SandboxClient
) -> None:
    body, kind = http.multipart(
        {"messaging_product": "whatsapp", "type": "image/jpeg"},
        "file",
        "photo.jpg",
        "image/jpeg",
        a_photo(),
    )
    auth = {"Authorization": f"Bearer {WHATSAPP_TOKEN}"}
    created = http.post(
        f"{sandbox.url}/graph/v21.0/{WHATSAPP_NUMBER_ID}/media",
        content=body,
        headers={**auth, "Content-Type": kind},
        timeout=3,
    )
    media_id = created.json()["id"]
    url = f"{sandbox.url}/graph/v21.0/{media_id}"
    assert http.delete(url, headers={"Authorization": "Bearer wrong"}, timeout=3).status_code == 401
    assert http.delete(url + "?phone_number_id=999", headers=auth, timeout=3).status_code == 400
    assert sandbox_client.uploads()[0]["deleted"] is False
    answer = http.delete(f"{url}?phone_number_id={WHATSAPP_NUMBER_ID}", headers=auth, timeout=3)
    assert (answer.status_code, answer.json()) == (200, {"success": True})
    assert sandbox_client.uploads()[0]["deleted"] is True


def test_whatsapp_refuses_an_upload_over_its_5_mb_limit(whatsapp: WhatsAppAdapter) -> None:
    too_big = a_photo() + b"\0" * (5 * 1024 * 1024)  # still a JPEG by its first bytes
    with pytest.raises(PermanentSendError):
        whatsapp.send(outbound("+6281234567001", WHATSAPP_NUMBER_ID, "", too_big))


def test_messenger_sends_the_text_then_the_file_itself(
    sandbox_client: SandboxClient, messenger: MessengerAdapter
) -> None:
    photo = a_photo()
    messenger.send(outbound("9200000000000001", PAGE_ID, "the receipt", photo))
    text, image = sandbox_client.outbox("citra")
    assert text["text"] == "the receipt" and image["type"] == "image"
    assert image["photos"][0]["size"] == len(photo)


def test_instagram_and_twilio_fetch_the_photo_from_the_url_they_are_given(
    sandbox_client: SandboxClient,
    instagram: InstagramAdapter,
    sms: SmsAdapter,
    sandbox: RunningSandbox,
) -> None:
    photo = a_photo()
    media_id = sandbox.runtime.media.put(photo, "image/jpeg")  # a URL the sandbox serves
    url = f"{sandbox.url}/twilio-cdn/{media_id}"
    instagram.send(outbound("9100000000000001", INSTAGRAM_ID, "the receipt", photo, public_url=url))
    sms.send(outbound("+14155550100", SMS_NUMBER, "the receipt", photo, public_url=url))
    assert sandbox_client.outbox("budi")[-1]["photos"][0]["size"] == len(photo)
    [mms] = sandbox_client.outbox("dewi")
    assert (mms["type"], mms["text"], mms["photos"][0]["size"]) == (
        "mms",
        "the receipt",
        len(photo),
    )
