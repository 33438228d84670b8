"""Delivery guarantees: retries, permanent failures, the 24-hour window, order, a killed worker."""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any

import pytest

from relay import crypto
from relay.models import Conversation, Delivery, Message
from relay.tasks import sweep
from tests.relay.conftest import BUYER, IDENTITY, SELLER, World, wait_until

pytestmark = pytest.mark.worker


def test_two_server_errors_then_success_deliver_exactly_once(world: World) -> None:
    world.connect_seller("instagram")
    world.sandbox.fail_next("instagram", "http500", count=2)
    world.buyer_writes("sms", f"{world.handle} retry me")
    sent = world.sandbox.wait_for_outbox(SELLER["instagram"], 1)
    time.sleep(0.5)
    assert len(world.sandbox.outbox(SELLER["instagram"])) == 1
    assert "retry me" in sent[0]["text"]
    delivery = wait_until(
        lambda: Delivery.objects.filter(
            kind="relay", state__in=["sent", "delivered", "read"]
        ).first(),
        what="the delivery to be recorded",
    )
    assert delivery.attempts == 3
    assert delivery.provider_message_id == crypto.provider_key(sent[0]["provider_message_id"])


def test_rate_limited_sends_wait_for_retry_after(world: World) -> None:
    world.connect_seller("messenger")
    world.sandbox.fail_next("messenger", "http429", count=1, retry_after=1)
    started = time.monotonic()
    world.buyer_writes("sms", f"{world.handle} slow down")
    world.sandbox.wait_for_outbox(SELLER["messenger"], 1)
    assert time.monotonic() - started >= 0.9


def test_a_permanent_error_fails_the_delivery_and_tells_the_sender_why(world: World) -> None:
    world.connect_seller("messenger")
    world.sandbox.fail_next("messenger", "permanent", count=1)
    world.buyer_writes("sms", f"{world.handle} will this arrive?")
    notice = world.sandbox.wait_for_outbox(BUYER["sms"], 1)[-1]["text"]
    assert "could not be delivered" in notice and "Mountain bike" in notice
    assert "isn't available" in notice
    failed = Delivery.objects.get(kind="relay")
    assert failed.state == "failed" and failed.error_code == "551"
    assert world.sandbox.outbox(SELLER["messenger"]) == []


def test_outside_the_24_hour_window_whatsapp_gets_the_template_and_the_text_follows_a_reply(
    world: World,
) -> None:
    world.connect_seller("whatsapp", active=False)
    world.buyer_writes("sms", f"{world.handle} is the bike still there?")
    template = world.sandbox.wait_for_outbox(SELLER["whatsapp"], 1)[-1]
    assert template["type"] == "template"
    assert "is the bike still there?" not in str(template)
    assert "Mountain bike" in str(template)
    wait_until(lambda: Delivery.objects.filter(state="waiting").exists(), what="waiting state")
    # The seller answers the template: the window opens and the held text is sent.
    world.seller_writes("whatsapp", "show me", reply_to=template["provider_message_id"])
    texts = world.sandbox.wait_for_outbox(SELLER["whatsapp"], 2)
    assert "is the bike still there?" in texts[1]["text"]
    # "show me" asked for the message; it is not itself relayed to the buyer.
    world.seller_writes("whatsapp", "Yes, still here", reply_to=texts[1]["provider_message_id"])
    wait_until(
        lambda: any("Yes, still here" in r["text"] for r in world.sandbox.outbox(BUYER["sms"])),
        what="the seller's real answer",
    )
    assert not any("show me" in r["text"] for r in world.sandbox.outbox(BUYER["sms"]))


def test_fifty_messages_sent_concurrently_arrive_in_the_order_they_were_accepted(
    world: World, settings: Any
) -> None:
    settings.RELAY_LIMIT_MESSAGES_PER_MINUTE = 100  # this test is about order, not limits
    world.connect_seller("instagram")
    world.buyer_writes("sms", f"{world.handle} first")
    world.sandbox.wait_for_outbox(SELLER["instagram"], 1)

    def send(number: int) -> None:
        answer = world.sandbox.send_inbound(BUYER["sms"], IDENTITY["sms"], f"message {number:02d}")
        assert answer["relay_status"] == 200

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(50)))
    received = world.sandbox.wait_for_outbox(SELLER["instagram"], 51, timeout=60)
    conversation = Conversation.objects.get()
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    accepted = [
        crypto.decrypt_body(key, m.uid, m.body_sealed)
        for m in Message.objects.filter(conversation=conversation).order_by("id")
    ]
    arrived = [r["text"].split("\n", 1)[1] for r in received[1:]]
    assert arrived == accepted[1:]
    assert len(set(arrived)) == 50


def test_a_worker_killed_mid_run_loses_nothing(
    world: World, celery_worker: Any, settings: Any
) -> None:
    world.connect_seller("instagram")
    world.sandbox.configure(latency_ms=300)
    world.buyer_writes("sms", f"{world.handle} start")
    world.sandbox.wait_for_outbox(SELLER["instagram"], 1)
    for number in range(12):
        world.buyer_writes("sms", f"burst {number}")
    world.sandbox.wait_for_outbox(SELLER["instagram"], 3, timeout=30)
    celery_worker.kill()  # SIGKILL: no chance to ack, requeue or clean up
    celery_worker.start()
    settings.RELAY_SWEEP_PENDING_SECONDS = 1
    expected = {f"burst {n}" for n in range(12)}

    last_sweep = [0.0]

    def all_arrived() -> bool:
        if time.monotonic() - last_sweep[0] >= 1.0:
            sweep.apply()  # what celery beat runs every RELAY_SWEEP_INTERVAL_SECONDS
            last_sweep[0] = time.monotonic()
        texts = " ".join(r["text"] for r in world.sandbox.outbox(SELLER["instagram"]))
        return all(text in texts for text in expected)

    stuck_sending = Delivery.objects.filter(state="sending")
    # A delivery the killed worker was sending is handed back after 5 sweep periods.
    stuck_sending.update(
        updated_at=stuck_sending.first().updated_at if stuck_sending.exists() else None
    ) if False else None
    wait_until(all_arrived, timeout=60, what="every accepted message after the kill")


@pytest.mark.parametrize("buyer_channel", ["whatsapp", "messenger", "sms"])
def test_status_webhooks_move_the_reply_to_read_and_the_sellers_inbox_shows_it(
    world: World, buyer_channel: str
) -> None:
    world.connect_seller("web")
    world.buyer_writes(buyer_channel, f"{world.handle} hello")
    wait_until(lambda: Conversation.objects.exists(), what="the conversation")
    world.seller_writes("web", "Hi! Yes it is.")
    world.sandbox.wait_for_outbox(BUYER[buyer_channel], 1)
    final = "delivered" if buyer_channel == "sms" else "read"  # SMS has no read receipts
    wait_until(
        lambda: Delivery.objects.filter(recipient_side="buyer", kind="relay", state=final).exists(),
        what=f"the reply to be {final}",
    )
    conversation = Conversation.objects.get()
    page = world.seller_web.get(f"/inbox/{conversation.code}/").content.decode()
    assert f"delivery-{final}" in page


def test_a_keyword_typed_as_the_reply_to_the_template_is_still_that_keyword(
    world: World,
) -> None:
    world.connect_seller("whatsapp", active=False)
    world.buyer_writes("sms", f"{world.handle} is the bike still there?")
    template = world.sandbox.wait_for_outbox(SELLER["whatsapp"], 1)[-1]
    assert template["type"] == "template"
    # The seller answers the template with STOP: the held text still arrives (the window is
    # open now), and the conversation ends as STOP says, instead of the reply being swallowed.
    world.seller_writes("whatsapp", "STOP", reply_to=template["provider_message_id"])
    texts = world.sandbox.wait_for_outbox(SELLER["whatsapp"], 2)
    assert any("is the bike still there?" in text.get("text", "") for text in texts)
    wait_until(
        lambda: Conversation.objects.filter(status="ended").exists(), what="the conversation ended"
    )
