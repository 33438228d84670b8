"""A message held as spam is "kept sealed as evidence, never delivered" (relay/pipeline/guards.py,
spam_hold): on every road its recipient reads, not only on their app. The web inbox page, its
thread list (preview and unread count), the REST API and the photo addresses showed it anyway;
the sender still sees their own message."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import User
from marketplace.models import Listing
from relay import selectors
from relay.api.tokens import create_api_token
from relay.models import Message, Side
from relay.services import media
from tests.relay import test_moderation_limits
from tests.relay.photos import camera_photo
from tests.relay.test_moderation_limits import handle, write

pytestmark = pytest.mark.django_db

listings = test_moderation_limits.listings  # the fixture
SPAM = "Cheap loans! Transfer the fee and earn 10x today"


@pytest.fixture
def held(listings: list[Listing], settings: Any) -> Message:
    settings.RELAY_DUPLICATE_LISTINGS_PER_HOUR = 3
    for i, listing in enumerate(listings[:3]):
        outcome = write(f"+62812345670{i}1", f"{handle(listing)} {SPAM}")
    assert outcome == "held_as_spam"
    message = Message.objects.order_by("-id").first()
    assert message is not None and not message.deliveries.exists()
    return message


def test_the_seller_never_reads_a_held_message_in_the_web_inbox(
    held: Message, seller_client: Client
) -> None:
    page = seller_client.get(reverse("relay:conversation", args=[held.conversation.code]))
    assert page.status_code == 200
    # No bubble of it (the thread list beside it holds the other, relayed, copies).
    assert f'data-message="{held.pk}"' not in page.content.decode()
    [thread] = [
        t
        for t in selectors.inbox_threads(held.conversation.listing.seller).threads or []
        if t.conversation.pk == held.conversation_id
    ]
    assert thread.unread == 0 and SPAM not in thread.preview


def test_the_api_lists_no_held_message(held: Message, seller: User) -> None:
    token = create_api_token(user=seller, name="backend")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    answer = api.get(reverse("api:messages", args=[held.conversation.code]))
    assert answer.status_code == 200
    assert SPAM not in answer.content.decode()


def test_a_held_messages_photo_is_a_404_to_the_seller(held: Message, seller_client: Client) -> None:
    photo = media.store(
        conversation=held.conversation, data=camera_photo(), sender_side=Side.BUYER, message=held
    )
    code = held.conversation.code
    for name in ("relay:conversation_photo", "relay:conversation_photo_thumb"):
        assert seller_client.get(reverse(name, args=[code, str(photo.uid)])).status_code == 404


def test_a_relayed_message_is_still_shown(held: Message, seller_client: Client) -> None:
    first = Message.objects.order_by("id").exclude(pk=held.pk).first()
    assert first is not None
    page = seller_client.get(reverse("relay:conversation", args=[first.conversation.code]))
    assert f'data-message="{first.pk}"' in page.content.decode()
