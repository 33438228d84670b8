"""What buyers and sellers hear back: unknown and paused handles, keywords, help, media."""

from __future__ import annotations

import pytest

from marketplace import services as marketplace
from relay.models import Conversation
from tests.relay.conftest import BUYER, SELLER, World, wait_until

pytestmark = pytest.mark.worker


def last_text(world: World, person: str, count: int = 1) -> str:
    return str(world.sandbox.wait_for_outbox(person, count)[-1]["text"])


def test_an_unknown_handle_gets_a_notice_and_nothing_is_forwarded(world: World) -> None:
    world.connect_seller("instagram")
    world.buyer_writes("whatsapp", "ZZZZ-9999 is this available?")
    text = last_text(world, BUYER["whatsapp"])
    # Ana's number is Indonesian, so she is answered in Indonesian.
    assert "ZZZZ-9999" in text and "Tidak ada yang diteruskan" in text
    assert not Conversation.objects.exists()
    assert world.sandbox.outbox(SELLER["instagram"]) == []


def test_a_paused_handle_says_the_listing_is_not_taking_messages(world: World) -> None:
    world.connect_seller("instagram")
    marketplace.mark_listing_sold(listing=world.listing)
    world.buyer_writes("sms", f"{world.handle} still for sale?")
    text = last_text(world, BUYER["sms"])
    assert "Mountain bike" in text and "not taking messages" in text
    assert world.sandbox.outbox(SELLER["instagram"]) == []


def test_a_rotated_handle_tells_the_buyer_it_changed(world: World) -> None:
    world.connect_seller("instagram")
    old = world.handle
    marketplace.rotate_listing_handle(listing=world.listing)
    world.buyer_writes("sms", f"{old} hi")
    assert "has been replaced" in last_text(world, BUYER["sms"])


def test_help_in_either_language_explains_how_to_use_the_relay(world: World) -> None:
    world.buyer_writes("sms", "HELP")
    assert "send the listing's handle" in last_text(world, BUYER["sms"])
    world.buyer_writes("whatsapp", "bantuan")
    assert "kirim kode iklan" in last_text(world, BUYER["whatsapp"])


def test_a_message_that_routes_nowhere_gets_help_not_a_guess(world: World) -> None:
    world.connect_seller("instagram")
    world.buyer_writes("messenger", "hello is anyone there")
    assert "handle" in last_text(world, BUYER["messenger"])
    assert world.sandbox.outbox(SELLER["instagram"]) == []


def test_a_video_gets_a_polite_reply_saying_only_photos_are_relayed(world: World) -> None:
    world.connect_seller("instagram")
    world.sandbox.send_inbound(BUYER["sms"], "sms-main", "", media=True, photo_type="video/mp4")
    assert "Only photos (JPEG, PNG, WebP) are relayed" in last_text(world, BUYER["sms"])


def test_the_seller_hears_which_listing_a_new_buyer_writes_about(world: World) -> None:
    world.connect_seller("sms")
    world.buyer_writes("whatsapp", f"{world.handle} halo")
    first = last_text(world, SELLER["sms"])
    tag = Conversation.objects.get().tag
    assert "New buyer for “Mountain bike”" in first and f"#{tag}" in first
    world.buyer_writes("whatsapp", "bisa nego?")
    second = last_text(world, SELLER["sms"], 2)
    assert "New buyer" not in second and f"Buyer {tag}" in second and "bisa nego?" in second


def test_a_seller_with_two_buyers_on_one_number_replies_by_tag(world: World) -> None:
    world.connect_seller("sms")
    world.buyer_writes("whatsapp", f"{world.handle} from ana")
    world.buyer_writes("instagram", f"{world.handle} from budi")
    world.sandbox.wait_for_outbox(SELLER["sms"], 2)
    ana = Conversation.objects.get(buyer_endpoint__channel="whatsapp")
    # A plain reply is ambiguous: the seller is asked to use a tag, nothing is forwarded.
    world.seller_writes("sms", "which one of you?")
    assert "several conversations" in last_text(world, SELLER["sms"], 3)
    world.seller_writes("sms", f"#{ana.tag} yes Ana, it's available")
    answer = last_text(world, BUYER["whatsapp"], 2)  # after "Sent to the seller of …"
    assert "yes Ana, it's available" in answer
    assert not any("yes Ana" in r["text"] for r in world.sandbox.outbox(BUYER["instagram"]))
    wait_until(lambda: True)
