"""Deep links that route: m.me/ig.me ?ref=<handle> and WhatsApp referrals name the listing."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
from django.utils import timezone

from contacts.models import User
from marketplace import handles
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import services as relay
from relay.adapters.base import InboundMessage
from relay.models import Conversation, Delivery, RelayIdentity
from relay.pipeline import Outcome, accept_event

pytestmark = pytest.mark.django_db
PAGE = "200000000000001"
PSID = "9200000000000001"


@pytest.fixture
def listings(seller: User) -> list[Listing]:
    relay.add_relay_identity(channel="messenger", provider_id=PAGE, address="perantara.relay")
    return [
        marketplace.create_listing(seller=seller, title=title, price=Decimal(10))
        for title in ("Mountain bike", "Road bike")
    ]


def code(listing: Listing) -> str:
    live = handles.live_handle(listing)
    assert live is not None
    return live.code


def event(text: str, referral: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel="messenger",
        provider_message_id="m_" + secrets.token_hex(8),
        sender_address=PSID,
        identity_provider_id=PAGE,
        text=text,
        timestamp=timezone.now(),
        referral=referral,
    )


def notices() -> list[str]:
    return list(Delivery.objects.filter(kind="notice").values_list("notice_code", flat=True))


def test_a_referral_alone_is_remembered_and_the_next_message_needs_no_handle(
    listings: list[Listing],
) -> None:
    assert accept_event(event("", referral=code(listings[1]))).outcome == Outcome.REFERRED
    assert notices() == ["referral_noted"] and not Conversation.objects.exists()
    assert accept_event(event("is it still for sale?")).outcome == Outcome.RELAYED
    assert Conversation.objects.get().listing == listings[1]
    # Used once: a later plain message follows the conversation, as usual.
    assert accept_event(event("and the price?")).outcome == Outcome.RELAYED
    assert Conversation.objects.count() == 1


def test_a_referral_with_text_opens_that_listing_even_beside_another_conversation(
    listings: list[Listing],
) -> None:
    assert accept_event(event(f"{handles.display(code(listings[0]))} hi")).outcome == "relayed"
    result = accept_event(event("this one too?", referral=code(listings[1])))
    assert result.outcome == Outcome.RELAYED
    assert {c.listing for c in Conversation.objects.all()} == set(listings)


def test_an_unknown_referral_says_so_and_forwards_nothing(listings: list[Listing]) -> None:
    assert accept_event(event("", referral="ZZZZ9999")).outcome == Outcome.NOT_ROUTED
    assert notices() == ["unknown_handle"] and not Conversation.objects.exists()


def test_deep_links_carry_the_handle_as_ref(listings: list[Listing]) -> None:
    page = RelayIdentity.objects.get(channel="messenger")
    assert page.deep_link("K7Q2-MX9D") == "https://m.me/perantara.relay?ref=K7Q2-MX9D"
    instagram = RelayIdentity(channel="instagram", provider_id="1", address="perantara.ig")
    assert instagram.deep_link("K7Q2-MX9D") == "https://ig.me/m/perantara.ig?ref=K7Q2-MX9D"
