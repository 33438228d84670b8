"""Signed photo links (Twilio MMS, Instagram, the photo page for SMS numbers without MMS):
they open for one photo and one delivery, expire, and anything else is a plain 404."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from PIL import Image

from contacts import services as contacts
from contacts.models import User
from marketplace import services as marketplace
from relay import services as relay
from relay.models import Conversation, Delivery, MediaFile
from relay.pipeline import roads
from relay.services import media, media_links
from relay.services.conversations import create_conversation
from tests.relay.photos import assert_clean_and_upright, camera_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(seller: User) -> Conversation:
    relay.add_relay_identity(channel="sms", provider_id="+15550002222", address="+15550002222")
    listing = marketplace.create_listing(seller=seller, title="Bike", price=Decimal(1))
    buyer, _ = contacts.get_or_create_endpoint(channel="sms", address="+14155550100")
    opened, _ = create_conversation(listing=listing, buyer=buyer, buyer_identity=None)
    return opened


def seller_sends_photo(seller: User, conversation: Conversation) -> tuple[MediaFile, Delivery]:
    stored = media.store(conversation=conversation, data=camera_photo(), sender_side="seller")
    result = roads.seller_reply(
        seller=seller, conversation=conversation, text="the receipt", media=[stored]
    )
    assert result.delivered
    assert result.message_id is not None
    delivery = Delivery.objects.get(message_id=result.message_id, kind="relay")
    stored.refresh_from_db()
    return stored, delivery


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_the_image_link_serves_the_cleaned_photo_of_that_delivery(
    seller: User, conversation: Conversation
) -> None:
    photo, delivery = seller_sends_photo(seller, conversation)
    response = Client().get(path_of(media_links.image_url(photo, delivery.pk)))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert_clean_and_upright(response.content)


def test_an_altered_or_guessed_token_is_a_404(seller: User, conversation: Conversation) -> None:
    photo, delivery = seller_sends_photo(seller, conversation)
    token = media_links.token(photo, delivery.pk)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    client = Client()
    assert client.get(f"/m/{altered}/").status_code == 404
    # The same file and delivery without the signature, or with another purpose's, do not open.
    value = token.rsplit(":", 2)[0]
    assert client.get(f"/m/{value}/").status_code == 404
    page_token = media_links.token(photo, delivery.pk, salt=media_links.PAGE_SALT)
    assert client.get(f"/m/{page_token}/").status_code == 404
    assert client.get(f"/p/{token}/").status_code == 404


def test_a_link_expires(seller: User, conversation: Conversation) -> None:
    photo, delivery = seller_sends_photo(seller, conversation)
    path = path_of(media_links.image_url(photo, delivery.pk))
    assert Client().get(path).status_code == 200
    with time_machine.travel(dt.timedelta(hours=1, minutes=1)):
        assert Client().get(path).status_code == 404


def test_a_link_cannot_be_reused_for_another_file_or_another_delivery(
    seller: User, conversation: Conversation
) -> None:
    first, first_delivery = seller_sends_photo(seller, conversation)
    second, second_delivery = seller_sends_photo(seller, conversation)
    client = Client()
    # Validly signed, but naming a file that is not that delivery's message's: refused.
    assert client.get(f"/m/{media_links.token(first, second_delivery.pk)}/").status_code == 404
    assert client.get(f"/m/{media_links.token(second, first_delivery.pk)}/").status_code == 404
    # A delivery of a channel that never gets links (the web) does not open either.
    Delivery.objects.filter(pk=first_delivery.pk).update(channel="web")
    assert client.get(f"/m/{media_links.token(first, first_delivery.pk)}/").status_code == 404


def test_the_photo_page_shows_the_photo_through_an_image_link(
    seller: User, conversation: Conversation
) -> None:
    photo, delivery = seller_sends_photo(seller, conversation)
    page = Client().get(path_of(media_links.page_url(photo, delivery.pk)))
    assert page.status_code == 200
    html = page.content.decode()
    assert "A photo sent to you through Perantara" in html
    source = html.split('class="photo-page-image" src="', 1)[1].split('"', 1)[0]
    image = Client().get(path_of(source))
    assert image.status_code == 200
    with Image.open(io.BytesIO(image.content)) as opened:
        assert opened.size == (photo.width, photo.height)
