"""A web-chat buyer and a seller in the web inbox with end-to-end messages between them, stored
as the relay stores them (tests of franked reports and of E2EE retention)."""

from __future__ import annotations

import base64
import html
import json
import os
from typing import Any

from django.test import Client
from django.urls import reverse

from marketplace.models import Listing
from relay import crypto, franking
from relay.models import Conversation, Delivery, Message, Side
from relay.services import franked_reports, web


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def e2ee_message(
    conversation: Conversation, side: str, text: str
) -> tuple[Message, dict[str, Any]]:
    """Store an end-to-end message as the relay would, and the claim the reporter's browser
    sends after opening it."""
    sender = (
        conversation.buyer_endpoint
        if side == Side.BUYER
        else web.seller_web_endpoint(conversation.listing.seller)
    )
    message = Message.objects.create(
        conversation=conversation,
        sender_side=side,
        sender_endpoint=sender,
        channel="web",
        e2ee=True,
        body_sealed=b"",
    )
    message.refresh_from_db()
    franking_key = os.urandom(32)
    commitment = franking.commitment(franking_key, text)
    ctx = franked_reports.context_for(message)
    tag = franking.reporting_tag(commitment, ctx)
    # The browsers' envelope: ciphertext to every device, opaque to the relay.
    envelope = json.dumps({"v": 1, "devices": {"d1": b64(os.urandom(64))}, "c": b64(commitment)})
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    Message.objects.filter(pk=message.pk).update(
        body_sealed=crypto.encrypt_body(key, message.uid, envelope),
        franking_commitment=commitment,
        reporting_tag=tag,
    )
    message.refresh_from_db()
    delivered_on_web(message)
    claim = {"message": str(message.uid), "m": text, "kf": b64(franking_key), "ctx": ctx}
    claim["r"] = b64(tag)
    return message, claim


def delivered_on_web(message: Message) -> Delivery:
    """The relay's delivery of a web message to the other side's web page, as outbound.relay
    stores it: a message without one was held (spam) and its recipient never sees it."""
    conversation = message.conversation
    buyer_wrote = message.sender_side == Side.BUYER
    return Delivery.objects.create(
        message=message,
        conversation=conversation,
        recipient_side=Side.SELLER if buyer_wrote else Side.BUYER,
        recipient_endpoint=web.seller_web_endpoint(conversation.listing.seller)
        if buyer_wrote
        else conversation.buyer_endpoint,
        channel="web",
        state=Delivery.State.DELIVERED,
    )


class Chat:
    """A web-chat buyer and the seller in the web inbox, talking end to end."""

    def __init__(self, listing: Listing, seller_client: Client) -> None:
        self.buyer = Client()
        start = reverse("relay:buyer_chat_start", args=[listing.code])
        response = self.buyer.post(start, {"text": "Is the bike still available?"})
        assert response.status_code == 302
        self.chat_url = response["Location"]
        self.conversation = Conversation.objects.get(listing=listing)
        self.seller = seller_client

    def buyer_reports(self, franked: Any, **extra: str) -> str:
        field = franked if isinstance(franked, str) else json.dumps(franked)
        data = {"reason": "scam", "note": "", "franked": field, **extra}
        response = self.buyer.post(self.chat_url + "report/", data, follow=True)
        assert response.status_code == 200
        return html.unescape(response.content.decode())

    def seller_reports(self, franked: Any) -> str:
        field = franked if isinstance(franked, str) else json.dumps(franked)
        url = reverse("relay:conversation_report", args=[self.conversation.code])
        response = self.seller.post(url, {"reason": "harassment", "franked": field}, follow=True)
        assert response.status_code == 200
        return html.unescape(response.content.decode())
