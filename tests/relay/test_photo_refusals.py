"""Photos the relay does not forward: each is refused with a notice in the sender's language
that says why, nothing is stored, and the caption still goes (the notice says so)."""

from __future__ import annotations

from typing import Any

import pytest

from relay.models import Conversation, MediaFetch, MediaFile
from relay.notices import render_notice
from tests.relay.conftest import BUYER, IDENTITY, SELLER, World, wait_until
from tests.relay.photos import camera_photo

pytestmark = pytest.mark.worker


def start(world: World, channel: str) -> None:
    world.connect_seller("whatsapp")
    world.buyer_writes(channel, f"{world.handle} is it still available?")
    world.sandbox.wait_for_outbox(SELLER["whatsapp"], 1)


def buyer_told(world: World, channel: str, code: str, **params: str) -> None:
    # In the buyer's language as the relay knows it: Ana's Indonesian number says Indonesian;
    # a Messenger or Instagram id says nothing, so the relay's default (English).
    expected = render_notice(code, "id" if channel == "whatsapp" else "en", params)

    def told() -> bool:
        return any(send["text"] == expected for send in world.sandbox.outbox(BUYER[channel]))

    wait_until(told, what=f"the notice {expected!r}")


def seller_texts(world: World) -> list[dict[str, Any]]:
    return world.sandbox.outbox(SELLER["whatsapp"])


def refused_and_caption_went(world: World, channel: str, problem: str) -> None:
    buyer_told(world, channel, "photo_not_forwarded_text_sent", problem=problem)
    sends = wait_until(lambda: seller_texts(world)[1:] or None, what="the caption")
    assert any("look at this" in send["text"] for send in sends), sends
    assert not any(send.get("photos") for send in sends)
    assert not MediaFile.objects.exists()
    fetch = MediaFetch.objects.get()
    assert (fetch.state, fetch.problem, fetch.reference_sealed) == ("failed", problem, None)


def test_a_photo_too_large_is_refused_before_it_is_read(world: World) -> None:
    start(world, "messenger")
    world.sandbox.send_inbound(
        BUYER["messenger"],
        IDENTITY["messenger"],
        "look at this",
        photo=camera_photo(),
        photo_pad_to=17 * 1024 * 1024,
    )
    refused_and_caption_went(world, "messenger", "too_large")


def test_a_slow_download_is_given_up(world: World) -> None:
    start(world, "whatsapp")
    world.sandbox.send_inbound(
        BUYER["whatsapp"],
        IDENTITY["whatsapp"],
        "look at this",
        photo=camera_photo(),
        photo_delay_ms=6000,
    )
    refused_and_caption_went(world, "whatsapp", "too_slow")


def test_a_file_that_lies_about_being_a_photo_is_refused(world: World) -> None:
    start(world, "sms")
    world.sandbox.send_inbound(
        BUYER["sms"],
        IDENTITY["sms"],
        "look at this",
        photo=b"%PDF-1.7\n1 0 obj <<>> endobj\n",
        photo_type="image/jpeg",  # what it claims; the decoder says otherwise
    )
    expected = render_notice("photo_not_forwarded_text_sent", "en", {"problem": "not_an_image"})
    wait_until(
        lambda: any(s["text"] == expected for s in world.sandbox.outbox(BUYER["sms"])),
        what="the notice in English (Dewi's language)",
    )
    assert not MediaFile.objects.exists()


def test_an_expired_messenger_attachment_url_is_refused(world: World) -> None:
    start(world, "messenger")
    world.sandbox.configure(attachment_url_seconds=0)  # expired by the time it is fetched
    world.sandbox.send_inbound(
        BUYER["messenger"], IDENTITY["messenger"], "look at this", photo=camera_photo()
    )
    refused_and_caption_went(world, "messenger", "unavailable")


def test_an_attachment_url_into_a_private_network_is_never_called(world: World) -> None:
    start(world, "instagram")
    world.sandbox.send_inbound(
        BUYER["instagram"],
        IDENTITY["instagram"],
        "look at this",
        photo=camera_photo(),
        media_url="http://169.254.169.254/latest/meta-data/iam/",
    )
    refused_and_caption_went(world, "instagram", "refused_address")


def test_a_refused_photo_without_a_caption_relays_nothing(world: World) -> None:
    start(world, "messenger")
    world.sandbox.configure(attachment_url_seconds=0)
    world.sandbox.send_inbound(BUYER["messenger"], IDENTITY["messenger"], "", photo=camera_photo())
    buyer_told(world, "messenger", "photo_not_forwarded", problem="unavailable")
    wait_until(
        lambda: (
            Conversation.objects.get().deliveries.filter(error_code="photo-not-forwarded").exists()
        ),
        what="the empty message to be dropped",
    )
    assert len(seller_texts(world)) == 1  # only the first question


def test_a_document_is_not_forwarded_but_its_caption_is(world: World) -> None:
    start(world, "whatsapp")
    world.sandbox.send_inbound(
        BUYER["whatsapp"],
        IDENTITY["whatsapp"],
        "look at this",
        photo=b"%PDF-1.7\n",
        photo_type="application/pdf",  # a document message: not even downloaded
    )
    buyer_told(world, "whatsapp", "media_unsupported_text_sent")
    sends = wait_until(lambda: seller_texts(world)[1:] or None, what="the caption")
    assert "look at this" in sends[-1]["text"]
    assert not MediaFetch.objects.exists() and not MediaFile.objects.exists()
