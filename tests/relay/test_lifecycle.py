"""The conversation lifecycle, through the channels people use: STOP → START, block → unblock,
a sold listing gone quiet → closed → shredded by purge, and Twilio's opt-out on SMS."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from marketplace import services as marketplace
from relay import selectors
from relay.models import Conversation, Side, SmsOptOut
from relay.services import lifecycle
from tests.relay.conftest import BUYER, SELLER, World, wait_until

pytestmark = pytest.mark.worker


def texts(world: World, person: str, count: int) -> list[str]:
    return [r["text"] for r in world.sandbox.wait_for_outbox(person, count)]


def start(world: World, buyer: str = "whatsapp", seller: str = "instagram") -> Conversation:
    """A buyer asks, the seller hears it, the buyer hears it was sent."""
    world.connect_seller(seller)
    world.buyer_writes(buyer, f"{world.handle} masih ada?")
    if seller != "web":
        world.sandbox.wait_for_outbox(SELLER[seller], 1)
    if buyer != "web":
        assert "Mountain bike" in texts(world, BUYER[buyer], 1)[0]
    return Conversation.objects.get()


def test_stop_ends_the_conversation_and_start_resumes_it(world: World) -> None:
    conversation = start(world)
    world.buyer_writes("whatsapp", "BERHENTI")
    stopped = texts(world, BUYER["whatsapp"], 2)[-1]
    # Ana writes from an Indonesian number: the notice says how to come back, in Indonesian.
    assert "MULAI" in stopped and world.handle in stopped
    conversation.refresh_from_db()
    assert (conversation.status, conversation.ended_by) == ("ended", "buyer")
    told = texts(world, SELLER["instagram"], 2)[-1]
    assert "ended the conversation" in told or "mengakhiri percakapan" in told

    world.seller_writes("instagram", "Still interested?")
    refused = texts(world, SELLER["instagram"], 3)[-1]
    assert "Still interested?" not in refused
    assert len(world.sandbox.outbox(BUYER["whatsapp"])) == 2  # nothing reached Ana

    world.buyer_writes("whatsapp", "halo lagi")
    assert "MULAI" in texts(world, BUYER["whatsapp"], 3)[-1]  # plain text does not resume

    world.buyer_writes("whatsapp", "mulai")
    assert "kembali" in texts(world, BUYER["whatsapp"], 4)[-1]
    back = texts(world, SELLER["instagram"], 4)[-1]
    assert "back in the conversation" in back or "kembali ke percakapan" in back
    world.seller_writes("instagram", "Great, still available")
    assert "Great, still available" in texts(world, BUYER["whatsapp"], 5)[-1]


def test_writing_the_handle_again_resumes_a_stopped_conversation(world: World) -> None:
    start(world, buyer="messenger")
    world.buyer_writes("messenger", "STOP")
    texts(world, BUYER["messenger"], 2)
    world.buyer_writes("messenger", f"{world.handle} sorry, still want it")
    # The seller hears the buyer is back, then the message itself.
    told = texts(world, SELLER["instagram"], 4)
    assert "is back" in told[-2] or "kembali" in told[-2]
    assert "sorry, still want it" in told[-1]
    assert Conversation.objects.get().status == "open"


def test_a_buyer_blocks_and_unblocks_the_seller(world: World) -> None:
    start(world, buyer="instagram", seller="whatsapp")
    world.buyer_writes("instagram", "BLOCK")
    assert "UNBLOCK" in texts(world, BUYER["instagram"], 2)[-1]
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.blocked_by) == ("blocked", "buyer")
    # The seller cannot undo the buyer's block.
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.unblock(conversation, by_side=Side.SELLER)
    world.buyer_writes("instagram", "hello?")
    assert "You blocked" in texts(world, BUYER["instagram"], 3)[-1]

    world.buyer_writes("instagram", "unblock")
    assert "Unblocked" in texts(world, BUYER["instagram"], 4)[-1]
    world.seller_writes("whatsapp", "Hi again")
    assert "Hi again" in texts(world, BUYER["instagram"], 5)[-1]


def test_the_seller_blocks_and_unblocks_in_the_inbox_and_the_buyer_is_told(
    world: World,
) -> None:
    conversation = start(world, buyer="sms", seller="web")
    page = world.seller_web.post(
        reverse("relay:conversation_block", args=[conversation.code]), follow=True
    )
    assert "Blocked." in page.content.decode() and "Unblock" in page.content.decode()
    assert "seller ended the conversation" in texts(world, BUYER["sms"], 2)[-1]
    world.buyer_writes("sms", "why?")
    assert "has ended" in texts(world, BUYER["sms"], 3)[-1]

    world.seller_web.post(reverse("relay:conversation_unblock", args=[conversation.code]))
    assert "seller is back" in texts(world, BUYER["sms"], 4)[-1]
    world.buyer_writes("sms", "ok thanks")
    shown = wait_until(
        lambda: (
            [m.text for m in selectors.messages_for(conversation, viewer_side=Side.SELLER)]
            if len(selectors.messages_for(conversation, viewer_side=Side.SELLER)) == 2
            else None
        ),
        what="the buyer's message in the inbox",
    )
    assert shown[-1] == "ok thanks"


def test_a_sold_listing_goes_quiet_closes_and_is_shredded_and_the_handle_starts_anew(
    world: World,
) -> None:
    old = start(world, buyer="sms")
    marketplace.mark_listing_sold(listing=world.listing)
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert lifecycle.close_idle() == 1
        old.refresh_from_db()
        assert old.status == "closed"
    # Bought back on sale: a buyer writing in the old conversation hears it closed.
    marketplace.publish_listing(listing=world.listing)
    world.buyer_writes("sms", "is it still sold?")
    closed = texts(world, BUYER["sms"], 2)[-1]
    assert "was closed" in closed and world.handle in closed
    world.buyer_writes("sms", f"{world.handle} back on sale?")
    wait_until(lambda: Conversation.objects.count() == 2, what="a new conversation")
    assert "back on sale?" in texts(world, SELLER["instagram"], 2)[-1]

    with time_machine.travel(timezone.now() + dt.timedelta(days=8 + 91)):
        out = io.StringIO()
        call_command("purge", stdout=out)
    old.refresh_from_db()
    assert old.wrapped_key is None and "Shredded 1 conversations" in out.getvalue()
    assert selectors.messages_for(old, viewer_side=Side.SELLER)[0].text == (
        "(this message has expired)"
    )


def test_sms_stop_opts_out_of_the_relay_number_until_start(world: World) -> None:
    conversation = start(world, buyer="sms")
    world.buyer_writes("sms", "STOP")
    wait_until(lambda: SmsOptOut.objects.exists(), what="the opt-out recorded")
    assert world.sandbox.opted_out(BUYER["sms"], "sms-main")
    # Twilio confirms it itself; the relay sends nothing (it would get 21610).
    assert world.sandbox.carrier_replies(BUYER["sms"])
    conversation.refresh_from_db()
    assert conversation.status == "ended"
    told = texts(world, SELLER["instagram"], 2)[-1]
    assert "buyer ended" in told or "Pembeli mengakhiri" in told

    world.seller_writes("instagram", "Hello?")
    texts(world, SELLER["instagram"], 3)
    assert len(world.sandbox.outbox(BUYER["sms"])) == 1  # only the first "Sent to the seller"

    world.buyer_writes("sms", "START")
    assert "Welcome back" in texts(world, BUYER["sms"], 2)[-1]
    assert not world.sandbox.opted_out(BUYER["sms"], "sms-main")
    conversation.refresh_from_db()
    assert conversation.status == "open"
    world.seller_writes("instagram", "Here again")
    assert "Here again" in texts(world, BUYER["sms"], 3)[-1]


def test_a_relay_notice_to_an_opted_out_number_is_never_sent(world: World) -> None:
    conversation = start(world, buyer="sms")
    world.buyer_writes("sms", "QUIT")
    wait_until(lambda: SmsOptOut.objects.exists(), what="the opt-out recorded")
    # A moderator's block tells both sides; the SMS buyer opted out, so only the seller hears.
    lifecycle.block(conversation, by_side=Side.RELAY)
    assert "moderator" in texts(world, SELLER["instagram"], 3)[-1].lower()
    assert len(world.sandbox.outbox(BUYER["sms"])) == 1


def test_web_participants_read_the_relay_s_words_in_their_conversation(world: World) -> None:
    world.connect_seller("web")
    client, url = world.buyer_writes("web", f"{world.handle} hi")
    conversation = Conversation.objects.get()
    world.seller_web.post(reverse("relay:conversation_block", args=[conversation.code]))
    # The seller's block retires the buyer's link: it says the chat ended and shows nothing more.
    gone = client.get(url)
    assert gone.status_code == 410 and "This chat has ended" in gone.content.decode()
    assert 'class="composer"' not in gone.content.decode()  # nothing to write into
    client.post(url + "unblock/")  # only the blocker can undo it: the buyer cannot
    assert Conversation.objects.get().status == "blocked"
    world.seller_web.post(reverse("relay:conversation_unblock", args=[conversation.code]))
    # Back from the listing page, the same browser reads what the relay told it meanwhile.
    again = client.post(
        reverse("relay:buyer_chat_start", args=[world.listing.code]), {"text": "hi again"}
    )
    chat = client.get(again["Location"]).content.decode()
    assert "The seller ended the conversation about “Mountain bike”" in chat
    assert "The seller is back in the conversation" in chat and 'class="composer"' in chat


def test_a_carrier_refusal_21610_is_remembered_and_the_sender_told(world: World) -> None:
    """The relay missed the STOP (a lost webhook, an opt-out made another way): Twilio's 21610
    on the next send records the opt-out, so the relay stops trying."""
    conversation = start(world, buyer="sms")
    world.buyer_writes("sms", "STOP")
    wait_until(lambda: SmsOptOut.objects.exists(), what="the opt-out recorded")
    SmsOptOut.objects.all().delete()  # as if the relay never heard it
    Conversation.objects.filter(pk=conversation.pk).update(status="open", ended_by="")
    world.seller_writes("instagram", "Are you there?")
    failed = texts(world, SELLER["instagram"], 3)[-1]
    assert "could not be delivered" in failed or "tidak dapat dikirim" in failed
    assert "opted out" in failed
    wait_until(lambda: SmsOptOut.objects.exists(), what="the refusal recorded")
    assert len(world.sandbox.outbox(BUYER["sms"])) == 1  # the sandbox took nothing more
