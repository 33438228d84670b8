"""A photo from each channel reaches each other channel (the 25 pairs, as for text), cleaned:
the bytes the other side's phone or page gets carry no GPS or camera tag, stand upright and are
bounded. Through a real worker and the sandbox speaking each platform's media flow."""

from __future__ import annotations

import base64
import itertools
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from relay.models import Conversation, Delivery, MediaFetch, MediaFile
from relay.pipeline import roads
from relay.services import media
from tests.relay.conftest import BUYER, IDENTITY, SELLER, World, wait_until
from tests.relay.photos import assert_clean_and_upright, camera_photo

CHANNELS = ["whatsapp", "instagram", "messenger", "sms", "web"]
pytestmark = pytest.mark.worker


def send_photo(world: World, side: str, channel: str, caption: str, reply_to: Any = None) -> None:
    """`side` sends the camera photo with `caption` from `channel`."""
    if channel == "web":
        # What the web upload does (the browser's file, then the message): store, then relay.
        conversation = Conversation.objects.get()
        stored = media.store(conversation=conversation, data=camera_photo(), sender_side=side)
        if side == "seller":
            result = roads.seller_reply(
                seller=world.seller, conversation=conversation, text=caption, media=[stored]
            )
        else:
            result = roads.buyer_message(
                buyer=conversation.buyer_endpoint,
                conversation=conversation,
                text=caption,
                media=[stored],
            )
        assert result.delivered, result
        return
    person = SELLER[channel] if side == "seller" else BUYER[channel]
    answer = world.sandbox.send_inbound(
        person, IDENTITY[channel], caption, reply_to=reply_to, photo=camera_photo()
    )
    assert answer["relay_status"] == 200, answer


def photo_received(world: World, side: str, channel: str) -> tuple[bytes, list[str]]:
    """The photo `side` got on `channel` (the bytes its app or page has) and the texts."""
    if channel == "web":
        sender = "buyer" if side == "seller" else "seller"
        stored = wait_until(
            lambda: MediaFile.objects.filter(
                message__sender_side=sender, message__isnull=False
            ).first(),
            what=f"a photo in the {side}'s web view",
        )
        return media.read(stored), []
    person = SELLER[channel] if side == "seller" else BUYER[channel]

    def with_photo() -> list[dict[str, Any]] | None:
        sends = world.sandbox.outbox(person)
        return sends if any(send.get("photos") for send in sends) else None

    sends = wait_until(with_photo, what=f"a photo on {person}'s {channel}")
    [photo] = [send for send in sends if send.get("photos")][-1]["photos"]
    return base64.b64decode(photo["data"]), [send["text"] for send in sends]


@pytest.mark.parametrize(
    ("buyer_channel", "seller_channel"), list(itertools.product(CHANNELS, CHANNELS))
)
def test_a_photo_reaches_the_other_side_cleaned_and_upright_both_ways(
    world: World, buyer_channel: str, seller_channel: str
) -> None:
    world.connect_seller(seller_channel)
    world.buyer_writes(buyer_channel, f"{world.handle} is it still available?")
    wait_until(Conversation.objects.exists, what="the conversation")

    send_photo(world, "buyer", buyer_channel, "the scratch is here")
    photo, texts = photo_received(world, "seller", seller_channel)
    assert_clean_and_upright(photo)
    # The platform's reference to the file (a media id, a URL) is kept sealed only until the
    # download ends: then it is erased (just after the photo is stored, so wait for it).
    wait_until(
        lambda: not MediaFetch.objects.filter(reference_sealed__isnull=False).exists(),
        what="the platform's reference erased",
    )
    if seller_channel != "web":  # the caption went like any text
        assert any("the scratch is here" in text for text in texts), texts

    reply_to = None
    if seller_channel != "web":
        reply_to = world.sandbox.outbox(SELLER[seller_channel])[-1]["provider_message_id"]
    send_photo(world, "seller", seller_channel, "and the receipt", reply_to=reply_to)
    photo, texts = photo_received(world, "buyer", buyer_channel)
    assert_clean_and_upright(photo)
    if buyer_channel != "web":
        assert any("and the receipt" in text for text in texts), texts


def test_an_sms_number_mms_cannot_reach_gets_a_link_to_a_page_showing_the_photo(
    world: World,
) -> None:
    known = {person["key"] for person in world.sandbox.state()["people"]}
    if "eko" not in known:  # Indonesia: Twilio sends no MMS there
        world.sandbox.add_person("eko", "Eko", "sms", "+6281234567055", language="id")
    world.connect_seller("web")
    world.sandbox.send_inbound("eko", IDENTITY["sms"], f"{world.handle} masih ada?")
    wait_until(Conversation.objects.exists, what="the conversation")
    send_photo(world, "seller", "web", "ini fotonya")

    def link() -> str | None:
        for send in world.sandbox.outbox("eko"):
            if "Foto (bisa dibuka selama satu jam): " in send["text"]:
                assert send["type"] == "text" and not send.get("photos")  # no MMS attempted
                assert "ini fotonya" in send["text"]
                return str(send["text"].rsplit(": ", 1)[1].strip())
        return None

    address = wait_until(link, what="the text with the photo link")
    page = requests.get(address, timeout=10)
    assert page.status_code == 200
    source = page.text.split('class="photo-page-image" src="', 1)[1].split('"', 1)[0]
    image = requests.get(urljoin(address, source), timeout=10)
    assert image.status_code == 200
    assert_clean_and_upright(image.content)


def test_a_photo_to_a_whatsapp_seller_past_the_window_waits_behind_the_template(
    world: World,
) -> None:
    seller = world.connect_seller("whatsapp", active=False)  # silent for over 24 hours
    assert seller is not None
    world.buyer_writes("messenger", f"{world.handle} is it still available?")
    wait_until(Conversation.objects.exists, what="the conversation")
    send_photo(world, "buyer", "messenger", "the scratch is here")
    [template] = world.sandbox.wait_for_outbox(SELLER["whatsapp"], 1)
    assert template["type"] == "template" and not template.get("photos")
    # The relay records the template as waiting for the answer just after the platform took it.
    wait_until(
        lambda: Delivery.objects.filter(state="waiting").exists(), what="the template to wait"
    )
    # The seller answers the template: what waited goes out, the photo with it.
    world.seller_writes("whatsapp", "ok", reply_to=template["provider_message_id"])
    photo, texts = photo_received(world, "seller", "whatsapp")
    assert_clean_and_upright(photo)
    assert any("the scratch is here" in text for text in texts), texts


def test_an_mms_twilio_refuses_as_such_goes_again_as_a_text_with_the_photo_link(
    world: World,
) -> None:
    world.connect_seller("web")
    world.buyer_writes("sms", f"{world.handle} is it still available?")
    world.sandbox.wait_for_outbox(BUYER["sms"], 1)  # "Sent to the seller of …"
    world.sandbox.fail_next("sms", "mms_unsupported")  # 21621: the number cannot send MMS
    send_photo(world, "seller", "web", "here it is")
    [*_, answer] = world.sandbox.wait_for_outbox(BUYER["sms"], 2)
    assert answer["type"] == "text" and not answer.get("photos")
    assert "here it is" in answer["text"]
    address = answer["text"].rsplit("Photo (opens for an hour): ", 1)[1].strip()
    page = requests.get(address, timeout=10)
    assert page.status_code == 200 and "photo-page-image" in page.text
    [refused] = world.sandbox.rejections()
    assert refused["reason"] == "mms_unsupported"


def test_an_mms_refused_later_by_its_status_callback_goes_again_as_a_text_with_the_link(
    world: World,
) -> None:
    world.connect_seller("web")
    world.buyer_writes("sms", f"{world.handle} is it still available?")
    world.sandbox.wait_for_outbox(BUYER["sms"], 1)  # "Sent to the seller of …"
    # Twilio takes the MMS, then its status callback says 30011: the phone cannot take MMS.
    world.sandbox.fail_next("sms", "mms_unsupported", later=True)
    send_photo(world, "seller", "web", "here it is")
    [*_, mms, answer] = world.sandbox.wait_for_outbox(BUYER["sms"], 3)
    assert mms["type"] == "mms" and mms["photos"]
    assert answer["type"] == "text" and not answer.get("photos")
    assert "here it is" in answer["text"]
    address = answer["text"].rsplit("Photo (opens for an hour): ", 1)[1].strip()
    page = requests.get(address, timeout=10)
    assert page.status_code == 200 and "photo-page-image" in page.text
    delivery = wait_until(
        lambda: Delivery.objects.filter(
            recipient_side="buyer", kind="relay", state="delivered"
        ).first(),
        what="the text with the link delivered",
    )
    assert delivery.error_code in ("", None)
    # The seller is not told it failed: the buyer got the photo's page.
    assert not Delivery.objects.filter(recipient_side="seller", kind="notice").exists()


def test_a_photo_uploaded_to_whatsapp_is_deleted_there_once_sent(world: World) -> None:
    world.connect_seller("whatsapp")
    world.buyer_writes("web", f"{world.handle} is it still available?")
    wait_until(Conversation.objects.exists, what="the conversation")
    send_photo(world, "buyer", "web", "the scratch is here")
    photo, _texts = photo_received(world, "seller", "whatsapp")
    assert_clean_and_upright(photo)
    # Meta would keep the upload 30 days: the relay deletes it once the send is accepted.
    uploads = wait_until(
        lambda: (found := world.sandbox.uploads()) and all(u["deleted"] for u in found) and found,
        what="the upload deleted",
    )
    assert len(uploads) == 1
    [sent] = [send for send in world.sandbox.outbox(SELLER["whatsapp"]) if send.get("photos")]
    assert sent["identity_provider_id"] == uploads[0]["phone_number_id"]
