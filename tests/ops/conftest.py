"""An operator's world: a seller with a listing, a WhatsApp relay identity, buyers writing in.

Messages come in through `accept_event` with on-commit callbacks captured and not run, so no
worker is needed: the rows (message, delivery) are what the operator's tools work on.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from contacts.models import User
from marketplace import handles
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import services as relay
from relay.adapters.base import InboundMessage
from relay.models import Conversation, RelayIdentity
from relay.pipeline import accept_event

PHONE_ID = "100000000000001"
_wamids = itertools.count(1)


@dataclass
class Shop:
    seller: User
    listing: Listing
    handle: str
    identity: RelayIdentity
    capture: Any

    def write(self, sender: str, text: str, *, handle: bool = True) -> Conversation:
        """A WhatsApp message from `sender` about the listing; returns its conversation."""
        event = InboundMessage(
            channel="whatsapp",
            provider_message_id=f"wamid.OPS{next(_wamids)}",
            sender_address=sender,
            identity_provider_id=PHONE_ID,
            text=f"{self.handle} {text}" if handle else text,
            timestamp=timezone.now(),
        )
        with self.capture(execute=False):
            accepted = accept_event(event=event)
        assert accepted.outcome == "relayed" and accepted.message_id is not None, accepted
        return Conversation.objects.get(messages__pk=accepted.message_id)


def open_shop(seller: User, capture: Any, title: str = "Mountain bike") -> Shop:
    identity = RelayIdentity.objects.filter(channel="whatsapp", provider_id=PHONE_ID).first()
    if identity is None:
        identity = relay.add_relay_identity(
            channel="whatsapp", provider_id=PHONE_ID, address="+15550001111"
        )
    listing = marketplace.create_listing(
        seller=seller, title=title, price=Decimal("3500000"), city="Bandung"
    )
    handle = handles.live_handle(listing)
    assert handle is not None
    return Shop(seller, listing, handle.display, identity, capture)


@pytest.fixture
def shop(seller: User, django_capture_on_commit_callbacks: Any) -> Shop:
    return open_shop(seller, django_capture_on_commit_callbacks)


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
