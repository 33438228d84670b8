"""Nothing is cut silently: a message longer than the other side's app takes is refused with
the limit, by whichever road it came."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from relay.models import Conversation, Message
from tests.relay.conftest import BUYER, SELLER, World, wait_until

pytestmark = pytest.mark.worker


@pytest.mark.parametrize(
    ("buyer_app", "length", "relayed"),
    [
        ("whatsapp", 3000, True),  # 4,096 characters
        ("messenger", 3000, False),  # 2,000 characters
        ("messenger", 1500, True),
        ("instagram", 1200, False),  # 1,000 bytes
        ("sms", 1700, False),  # 1,600 characters
        ("sms", 1200, True),
    ],
)
def test_a_seller_s_long_reply_from_the_inbox_fits_the_buyer_s_app_or_is_refused(
    world: World, buyer_app: str, length: int, relayed: bool
) -> None:
    world.connect_seller("web")
    world.buyer_writes(buyer_app, f"{world.handle} hi")
    conversation = wait_until(lambda: Conversation.objects.first(), what="the conversation")
    page = world.seller_web.post(
        reverse("relay:conversation", args=[conversation.code]), {"text": "x" * length}, follow=True
    )
    shown = html.unescape(page.content.decode())
    assert Message.objects.filter(sender_side="seller").exists() == relayed
    assert ("too long for the other side's app" in shown) != relayed


def test_instagram_counts_bytes_not_characters(world: World) -> None:
    world.connect_seller("instagram")
    world.buyer_writes("sms", f"{world.handle} hi")
    world.sandbox.wait_for_outbox(SELLER["instagram"], 1)
    world.sandbox.wait_for_outbox(BUYER["sms"], 1)  # "Sent to the seller of …"
    world.buyer_writes("sms", "é" * 600)  # 600 characters, 1,200 bytes
    notice = world.sandbox.wait_for_outbox(BUYER["sms"], 2)[-1]["text"]
    assert "too long" in notice and "Instagram" in notice
    world.buyer_writes("sms", "e" * 600)
    assert world.sandbox.wait_for_outbox(SELLER["instagram"], 2)[-1]["text"].endswith("e" * 600)
