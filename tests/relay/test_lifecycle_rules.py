"""The lifecycle's rules, transition by transition, and the keywords that drive them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from contacts import services as contacts
from contacts.models import User
from marketplace import services as marketplace
from relay import services as relay
from relay.models import Conversation, Delivery, Side
from relay.pipeline import keywords
from relay.pipeline.guards import visible_text
from relay.pipeline.types import Context, Outcome, Road, Submission
from relay.services import lifecycle
from relay.services.conversations import create_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(seller: User) -> Conversation:
    relay.add_relay_identity(channel="sms", provider_id="+15550002222", address="+15550002222")
    listing = marketplace.create_listing(seller=seller, title="Bike", price=Decimal(1))
    buyer, _ = contacts.get_or_create_endpoint(channel="sms", address="+14155550100")
    opened, _ = create_conversation(listing=listing, buyer=buyer, buyer_identity=None)
    return opened


def told(conversation: Conversation, side: str) -> list[str]:
    return list(
        Delivery.objects.filter(conversation=conversation, recipient_side=side)
        .order_by("id")
        .values_list("notice_code", flat=True)
    )


def test_end_and_resume_by_the_side_that_stopped(conversation: Conversation) -> None:
    lifecycle.end(conversation, by_side=Side.BUYER)
    assert (conversation.status, conversation.ended_by) == ("ended", "buyer")
    assert told(conversation, Side.SELLER) == ["buyer_left"]
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.resume(conversation, by_side=Side.SELLER)
    lifecycle.resume(conversation, by_side=Side.BUYER)
    assert (conversation.status, conversation.ended_by) == ("open", "")
    assert told(conversation, Side.SELLER) == ["buyer_left", "buyer_back"]


def test_block_and_unblock_by_the_blocker_only(conversation: Conversation) -> None:
    lifecycle.block(conversation, by_side=Side.SELLER)
    assert (conversation.status, conversation.blocked_by) == ("blocked", "seller")
    assert told(conversation, Side.BUYER) == ["seller_left"]
    assert not lifecycle.can_unblock(conversation, Side.BUYER)
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.unblock(conversation, by_side=Side.BUYER)
    lifecycle.unblock(conversation, by_side=Side.SELLER)
    assert conversation.status == "open"
    assert told(conversation, Side.BUYER) == ["seller_left", "seller_back"]


def test_a_stopped_conversation_can_still_be_blocked_and_the_other_side_hears_once(
    conversation: Conversation,
) -> None:
    lifecycle.end(conversation, by_side=Side.BUYER)
    lifecycle.block(conversation, by_side=Side.BUYER)
    assert conversation.status == "blocked"
    assert told(conversation, Side.SELLER) == ["buyer_left"]


def test_a_moderator_block_tells_both_sides_and_no_participant_can_undo_it(
    conversation: Conversation,
) -> None:
    lifecycle.block(conversation, by_side=Side.RELAY)
    assert told(conversation, Side.BUYER) == ["relay_blocked"]
    assert told(conversation, Side.SELLER) == ["relay_blocked"]
    for side in (Side.BUYER, Side.SELLER):
        assert not lifecycle.can_unblock(conversation, side)


def test_idle_conversations_close_on_the_lifecycle_s_schedule(
    conversation: Conversation, settings: Any
) -> None:
    settings.RELAY_CLOSE_AFTER_DAYS, settings.RELAY_IDLE_CLOSE_DAYS = 7, 60
    now = timezone.now()
    assert lifecycle.close_idle(now=now + dt.timedelta(days=59)) == 0  # listing still active
    marketplace.mark_listing_sold(listing=conversation.listing)
    assert lifecycle.close_idle(now=now + dt.timedelta(days=6)) == 0
    assert lifecycle.close_idle(now=now + dt.timedelta(days=8)) == 1
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.end(conversation, by_side=Side.BUYER)


def test_any_conversation_closes_after_the_idle_limit(conversation: Conversation) -> None:
    lifecycle.block(conversation, by_side=Side.BUYER)
    with time_machine.travel(timezone.now() + dt.timedelta(days=61)):
        assert lifecycle.close_idle() == 1
    conversation.refresh_from_db()
    assert conversation.status == "closed"


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("berhenti", "stop"),
        ("#K7Q2 Stop.", "stop"),
        ("Mulai!", "start"),
        ("START", "start"),
        ("blokir", "block"),
        ("UNBLOCK", "unblock"),
        ("buka", "unblock"),
        ("Lapor", "report"),
        ("bantuan?", "help"),
        ("stop please", None),
        ("please stop", None),
        ("buka jam berapa?", None),
    ],
)
def test_keywords_are_whole_messages_in_english_or_indonesian(
    text: str, keyword: str | None
) -> None:
    assert keywords.keyword_of(text) == keyword


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("STOP", "out"),
        ("stopall", "out"),
        (" Unsubscribe ", "out"),
        ("cancel", "out"),
        ("END", "out"),
        ("quit.", "out"),
        ("start", "in"),
        ("YES", "in"),
        ("unstop", "in"),
        ("yes please", None),
        ("#K7Q2 STOP", None),  # Twilio reads the whole body: a tagged STOP is ours only
        ("berhenti", None),
    ],
)
def test_twilio_s_opt_out_and_opt_in_words(text: str, word: str | None) -> None:
    assert keywords.sms_carrier_word(text) == word


@pytest.mark.parametrize(
    "text", ["\u200b", "\x00", " \u200d\u2060 ", "\ufeff\u200c", "\x00\u200b\n\t"]
)
def test_invisible_only_text_is_refused(text: str) -> None:
    ctx = Context(Submission(road=Road.API, text=text), text=text)
    stop = visible_text(ctx)
    assert stop is not None and stop.outcome == Outcome.EMPTY


def test_invisible_characters_cannot_split_a_number_past_the_guard() -> None:
    text = "0812\u200b3456\u200b7890"
    ctx = Context(Submission(road=Road.API, text=text), text=text)
    assert visible_text(ctx) is None and ctx.text == "081234567890"
