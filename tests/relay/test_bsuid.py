"""WhatsApp users with a username and no number (business-scoped user ids, BSUID) converse
both ways; a number and a BSUID of one person are one endpoint."""

from __future__ import annotations

import secrets

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Endpoint
from relay.adapters.base import InboundMessage
from relay.models import Conversation
from relay.pipeline import Outcome, accept_event
from tests.relay.conftest import World, wait_until

pytestmark = pytest.mark.worker
WA_PHONE_ID = "100000000000001"
BSUID = "ID.1502576394655843"


def from_bsuid(text: str, *, phone: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel="whatsapp",
        provider_message_id="wamid." + secrets.token_hex(8),
        sender_address=phone or BSUID,
        identity_provider_id=WA_PHONE_ID,
        text=text,
        timestamp=timezone.now(),
        sender_key=BSUID,
    )


def test_a_username_only_buyer_reaches_the_seller_and_gets_the_answer(world: World) -> None:
    world.sandbox.add_person(
        key="uma", name="Uma", channel="whatsapp", address="+6281234567050", bsuid=BSUID
    )
    world.connect_seller("web")
    assert accept_event(from_bsuid(f"{world.handle} masih ada?")).outcome == Outcome.RELAYED
    buyer = Endpoint.objects.get(channel="whatsapp")
    # Stored sealed, found by its own blind index; its country gives region and language.
    assert BSUID not in repr(buyer.__dict__)
    assert (buyer.region, buyer.language) == ("ID", "id")
    conversation = Conversation.objects.get()
    world.seller_web.post(
        reverse("relay:conversation", args=[conversation.code]), {"text": "Masih, kak"}
    )
    sent = wait_until(
        lambda: [r for r in world.sandbox.outbox("uma") if "Masih, kak" in r["text"]],
        what="the reply sent to the BSUID",
    )
    assert sent[-1]["to"] == BSUID  # addressed with `recipient`, as Meta requires


def test_a_number_and_a_bsuid_of_one_person_are_one_endpoint(world: World) -> None:
    world.connect_seller("web")
    accept_event(from_bsuid(f"{world.handle} halo", phone="+6281234567050"))
    accept_event(from_bsuid("number hidden now"))  # a username hides the number
    assert Endpoint.objects.filter(channel="whatsapp").count() == 1
    assert Conversation.objects.get().messages.count() == 2


def test_a_bsuid_is_not_read_as_a_phone_number() -> None:
    assert contacts.normalize_address(channel="whatsapp", address=BSUID) == BSUID
    assert contacts.normalize_address(channel="whatsapp", address="US.ENT.118157992128") == (
        "US.ENT.118157992128"
    )
    with pytest.raises(contacts.InvalidPhoneNumber):
        contacts.normalize_address(channel="sms", address=BSUID)
