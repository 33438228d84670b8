"""A platform's "this person will not receive from you" marks the recipient opted out: the
relay stops trying them and tells the sender plainly; writing again lifts it (not on SMS)."""

from __future__ import annotations

import pytest

from relay.models import Delivery, SmsOptOut
from tests.relay.conftest import BUYER, SELLER, World, wait_until

pytestmark = pytest.mark.worker


@pytest.mark.parametrize(
    ("channel", "identity", "code"),
    [("messenger", "fb-page", 551), ("instagram", "ig-main", 551), ("whatsapp", "wa-main", 131026)],
)
def test_a_buyer_who_blocked_the_relay_is_tried_no_more_until_they_write(
    world: World, channel: str, identity: str, code: int
) -> None:
    world.connect_seller("sms")
    world.buyer_writes(channel, f"{world.handle} hi")
    world.sandbox.wait_for_outbox(SELLER["sms"], 1)
    world.sandbox.wait_for_outbox(BUYER[channel], 1)  # "Sent to the seller of …"
    world.sandbox.fail_next(channel, "permanent")  # answers 551 or 131026, as documented
    conversation_tag = world.listing.conversations.get().tag
    world.seller_writes("sms", f"#{conversation_tag} still want it?")
    told = world.sandbox.wait_for_outbox(SELLER["sms"], 2)[-1]["text"]
    assert "could not be delivered" in told
    wait_until(lambda: SmsOptOut.objects.exists(), what="the refusal recorded")
    assert Delivery.objects.filter(state="failed", error_code=str(code)).count() == 1

    world.seller_writes("sms", f"#{conversation_tag} hello?")  # not tried: no send at all
    assert "opted out" in world.sandbox.wait_for_outbox(SELLER["sms"], 3)[-1]["text"]
    assert len(world.sandbox.outbox(BUYER[channel])) == 1

    world.buyer_writes(channel, "sorry, I'm back")
    wait_until(lambda: not SmsOptOut.objects.exists(), what="the refusal lifted")
    world.seller_writes("sms", f"#{conversation_tag} welcome back")
    assert "welcome back" in world.sandbox.wait_for_outbox(BUYER[channel], 2)[-1]["text"]
