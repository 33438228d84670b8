"""The platforms as they really are, end to end through the sandbox: every referral shape routes,
BSUID-only users converse, contact cards and groups are answered, menu taps are keywords."""

from __future__ import annotations

import pytest

from relay.models import Conversation
from tests.relay.conftest import BUYER, SELLER, World, wait_until

pytestmark = pytest.mark.worker


def texts(world: World, person: str, count: int) -> list[str]:
    return [r["text"] for r in world.sandbox.wait_for_outbox(person, count)]


@pytest.mark.parametrize("shape", ["postback", "event", "message"])
@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_every_referral_shape_routes_the_next_message_to_the_listing(
    world: World, channel: str, shape: str
) -> None:
    world.connect_seller("whatsapp")
    text = "is it still available?" if shape == "message" else ""
    answer = world.sandbox.open_referral(
        BUYER[channel],
        {"messenger": "fb-page", "instagram": "ig-main"}[channel],
        ref=world.handle,
        shape=shape,
        text=text,
    )
    assert answer["relay_status"] == 200
    if shape != "message":
        assert "Mountain bike" in texts(world, BUYER[channel], 1)[-1]  # "You're writing about"
        world.buyer_writes(channel, "is it still available?")  # no handle needed
    received = texts(world, SELLER["whatsapp"], 1)[-1]
    assert "is it still available?" in received and "Mountain bike" in received
    assert Conversation.objects.get().listing == world.listing


def test_a_username_only_whatsapp_user_reaches_the_seller(world: World) -> None:
    world.sandbox.add_person(
        key="uma",
        name="Uma",
        channel="whatsapp",
        address="+6281234567050",
        bsuid="ID.1502576394655843",
        language="id",
    )
    world.connect_seller("instagram")
    answer = world.sandbox.send_as_username_only("uma", "wa-main", f"{world.handle} hi")
    assert answer["relay_status"] == 200
    assert "hi" in texts(world, SELLER["instagram"], 1)[-1]


def test_a_contact_card_is_refused_in_words_and_its_number_never_travels(world: World) -> None:
    world.connect_seller("instagram")
    world.buyer_writes("whatsapp", f"{world.handle} hi")
    texts(world, SELLER["instagram"], 1)
    texts(world, BUYER["whatsapp"], 1)  # "Sent to the seller of …"
    world.sandbox.send_contact_card(BUYER["whatsapp"], "wa-main")
    refused = texts(world, BUYER["whatsapp"], 2)[-1]
    assert "kartu kontak" in refused or "contact card" in refused
    assert len(world.sandbox.outbox(SELLER["instagram"])) == 1


def test_a_group_message_gets_a_polite_refusal(world: World) -> None:
    world.sandbox.send_group_message(BUYER["whatsapp"], "wa-main", f"{world.handle} hi all")
    refused = texts(world, BUYER["whatsapp"], 1)[-1]
    assert "grup" in refused or "group" in refused
    assert not Conversation.objects.exists()


def test_a_menu_tap_is_a_keyword_never_forwarded_text(world: World) -> None:
    world.connect_seller("whatsapp")
    world.buyer_writes("messenger", f"{world.handle} hi")
    texts(world, SELLER["whatsapp"], 1)
    world.sandbox.tap_menu(BUYER["messenger"], "fb-page", "MENU_HELP", title="Help")
    wait_until(lambda: len(world.sandbox.outbox(BUYER["messenger"])) >= 2, what="the help text")
    assert "MENU_HELP" not in " ".join(texts(world, SELLER["whatsapp"], 1))
    assert len(world.sandbox.outbox(SELLER["whatsapp"])) == 1
