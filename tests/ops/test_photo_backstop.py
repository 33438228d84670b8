"""A photo whose download never ends (the worker died mid-fetch): the delivery's backstop gives
it up, the text beside it goes, and the sender is told as for a download too slow, once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from relay.adapters.base import InboundMessage, MediaRef
from relay.models import Delivery, MediaFetch, Message
from relay.notices import render_notice
from relay.pipeline import accept_event
from relay.services import media_fetch
from tests.ops.conftest import PHONE_ID, Shop

pytestmark = pytest.mark.django_db
BUYER = "+6281234567001"


def photo_message(shop: Shop, text: str) -> Message:
    event = InboundMessage(
        channel="whatsapp",
        provider_message_id="wamid.BACKSTOP1",
        sender_address=BUYER,
        identity_provider_id=PHONE_ID,
        text=f"{shop.handle} {text}",
        timestamp=timezone.now(),
        has_media=True,
        media=(MediaRef("image", "media-id-1"),),
    )
    with shop.capture(execute=False):  # the fetch task is never run: its worker "died"
        accepted = accept_event(event=event)
    assert accepted.message_id is not None, accepted
    return Message.objects.get(pk=accepted.message_id)


def notices_to_buyer(message: Message) -> list[Delivery]:
    return list(
        Delivery.objects.filter(
            recipient_endpoint=message.sender_endpoint, kind=Delivery.Kind.NOTICE
        ).filter(notice_code__startswith="photo_not_forwarded")
    )


def test_the_backstop_tells_the_sender_once_when_it_gives_a_stuck_download_up(
    shop: Shop, settings: Any
) -> None:
    message = photo_message(shop, "look at the scratch")
    fetch = MediaFetch.objects.get(message=message)
    MediaFetch.objects.filter(pk=fetch.pk).update(state=MediaFetch.State.FETCHING)

    # Still within its time: nothing is given up, nobody is told.
    assert media_fetch.give_up_stale(message_id=message.pk) is True
    assert notices_to_buyer(message) == []

    limit = settings.RELAY_MEDIA_FETCH_SECONDS * (settings.RELAY_MEDIA_FETCH_ATTEMPTS + 1) + 60
    MediaFetch.objects.filter(pk=fetch.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=limit + 1)
    )
    with shop.capture(execute=False):
        assert media_fetch.give_up_stale(message_id=message.pk) is False
        assert media_fetch.give_up_stale(message_id=message.pk) is False  # a second delivery

    [notice] = notices_to_buyer(message)
    assert notice.notice_code == "photo_not_forwarded_text_sent"
    assert notice.notice_params == {"problem": "too_slow"}
    # What Ana reads on WhatsApp, in Indonesian: the photo did not go, her text did.
    assert "foto" in render_notice(notice.notice_code, "id", notice.notice_params).lower()
    fetch.refresh_from_db()
    assert (fetch.state, fetch.problem, fetch.reference_sealed) == ("failed", "too_slow", None)
