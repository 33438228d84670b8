"""Messenger and Instagram: a reply more than 24 h after the buyer wrote goes with HUMAN_AGENT,
and not at all after 7 days: the seller is told the buyer must write first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contacts.models import Endpoint
from relay.models import Conversation, Delivery
from tests.relay.conftest import BUYER, SELLER, World, wait_until

pytestmark = pytest.mark.worker


def quiet_for(days: float) -> None:
    buyer = Conversation.objects.get().buyer_endpoint_id
    Endpoint.objects.filter(pk=buyer).update(
        last_inbound_at=timezone.now() - dt.timedelta(days=days)
    )


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_after_seven_quiet_days_the_seller_hears_the_buyer_must_write_first(
    world: World, channel: str
) -> None:
    world.connect_seller("whatsapp")
    world.buyer_writes(channel, f"{world.handle} still there?")
    world.sandbox.wait_for_outbox(SELLER["whatsapp"], 1)
    quiet_for(8)
    world.seller_writes("whatsapp", "Sorry for the late answer")
    told = world.sandbox.wait_for_outbox(SELLER["whatsapp"], 2)[-1]["text"]
    assert "7 days" in told and "write first" in told
    assert not any("late answer" in r["text"] for r in world.sandbox.outbox(BUYER[channel]))


def test_within_seven_days_the_reply_goes_as_a_human_agent_message(world: World) -> None:
    world.connect_seller("whatsapp")
    world.buyer_writes("messenger", f"{world.handle} still there?")
    world.sandbox.wait_for_outbox(SELLER["whatsapp"], 1)
    quiet_for(6)
    world.seller_writes("whatsapp", "Yes, sorry for the wait")
    wait_until(
        lambda: any(
            "sorry for the wait" in r["text"] for r in world.sandbox.outbox(BUYER["messenger"])
        ),
        what="the reply on Messenger",
    )
    assert Delivery.objects.filter(state="failed").count() == 0
