"""Buyers and sellers talk across every pair of channels through a real worker and sandbox."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from relay import pseudonyms
from relay.models import Conversation, Delivery
from tests.relay.conftest import BUYER, SELLER, World, people, wait_until

CHANNELS = ["whatsapp", "instagram", "messenger", "sms", "web"]
pytestmark = pytest.mark.worker


def seller_sees(world: World, channel: str, count: int) -> list[str]:
    if channel == "web":

        def inbox() -> list[str] | None:
            conversation = world.listing.conversations.first()
            if conversation is None:
                return None
            page = world.seller_web.get(f"/inbox/{conversation.code}/").content.decode()
            chat = page[page.index('<section class="chat">') :]
            # The conversation pane: its header names the listing, its bubbles the messages.
            return [chat] if chat.count('class="bubble') >= count else None

        return wait_until(inbox, what="the seller's web inbox")
    return [record["text"] for record in world.sandbox.wait_for_outbox(SELLER[channel], count)]


def buyer_sees(world: World, channel: str, count: int, web: tuple[Client, str] | None) -> list[str]:
    if channel == "web":
        assert web is not None
        client, url = web

        def chat() -> list[str] | None:
            page = client.get(url + "messages/").content.decode()
            texts = page.split('class="bubble')[1:]
            return texts if len(texts) >= count else None

        return wait_until(chat, what="the buyer's web chat")
    return [record["text"] for record in world.sandbox.wait_for_outbox(BUYER[channel], count)]


@pytest.mark.parametrize(
    ("buyer_channel", "seller_channel"), list(itertools.product(CHANNELS, CHANNELS))
)
def test_a_buyers_question_reaches_the_seller_and_the_answer_comes_back(
    world: World, buyer_channel: str, seller_channel: str
) -> None:
    world.connect_seller(seller_channel)
    first = world.buyer_writes(buyer_channel, f"{world.handle} is it still available?")
    web = first if buyer_channel == "web" else None

    received = seller_sees(world, seller_channel, 1)
    assert "is it still available?" in received[-1]
    assert "Mountain bike" in received[-1]
    conversation = Conversation.objects.get()
    # The buyer's pseudonym in the seller's language: Sari's WhatsApp number is Indonesian.
    language = "id" if seller_channel == "whatsapp" else "en"
    assert pseudonyms.buyer_name(conversation.tag, language) in received[-1]

    reply_to = None
    if seller_channel != "web":
        reply_to = world.sandbox.outbox(SELLER[seller_channel])[-1]["provider_message_id"]
    world.seller_writes(seller_channel, "Yes! Come see it on Saturday.", reply_to=reply_to)

    # On an app the buyer first hears that the question reached the seller (once).
    answers = buyer_sees(world, buyer_channel, 1 if buyer_channel == "web" else 2, web)
    if buyer_channel != "web":
        sent = ("Sent to the seller of “Mountain bike”", "Terkirim ke penjual “Mountain bike”")
        assert any(phrase in text for text in answers for phrase in sent), answers
    [answer] = [text for text in answers if "Yes! Come see it on Saturday." in text]
    assert "Mountain bike" in answer

    # Neither side sees the other's number or platform id, nor the seller's name.
    buyer_address = people()[BUYER[buyer_channel]]["address"] if buyer_channel != "web" else "web-"
    seller_address = (
        people()[SELLER[seller_channel]]["address"] if seller_channel != "web" else "web-"
    )
    for text in received:
        assert buyer_address.lstrip("+") not in text
    for text in answers:
        assert seller_address.lstrip("+") not in text
        assert "Sari" not in text
    relayed = Delivery.objects.filter(kind="relay")
    wait_until(
        lambda: all(d.state in ("sent", "delivered", "read") for d in relayed.all()),
        what="both deliveries to finish",
    )
