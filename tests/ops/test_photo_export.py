"""The data export hands each person the photos they sent (the cleaned image, as base64 in the
JSON) and lists, without their bytes, the photos the other side sent them."""

from __future__ import annotations

import base64
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from contacts.models import Endpoint, User
from marketplace import photos as listing_photos
from relay.models import Conversation, MediaFile, Message, Side
from relay.pipeline import roads
from relay.services import accounts, media
from tests.fixtures.storage import media_folder, photo
from tests.ops.conftest import Shop
from tests.photo_samples import metadata_of

pytestmark = pytest.mark.django_db
NO_METADATA = {"exif": {}, "gps": {}, "info": {}, "camera_named": False}


@pytest.fixture
def folder(settings: Any, tmp_path: Path) -> Path:
    return media_folder(settings, tmp_path / "media")


def photo_in(conversation: Conversation, side: str, colour: Any) -> MediaFile:
    message = Message.objects.filter(conversation=conversation, sender_side=side).latest("id")
    return media.store(
        conversation=conversation, data=photo(colour), sender_side=side, message=message
    )


def a_chat_with_a_photo_each_way(shop: Shop) -> tuple[Conversation, MediaFile, MediaFile]:
    chat = shop.write("+6281234567001", "the scratch is here")
    buyers = photo_in(chat, Side.BUYER, (200, 30, 30))
    with shop.capture(execute=False):
        roads.seller_reply(seller=shop.seller, conversation=chat, text="and the receipt")
    sellers = photo_in(chat, Side.SELLER, (30, 30, 200))
    return chat, buyers, sellers


def photos_of_messages(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    return [one for message in conversation["messages"] for one in message["photos"]]


def test_the_sellers_export_holds_their_own_photos_and_lists_the_buyers(
    shop: Shop, folder: Path, seller: User, tmp_path: Path
) -> None:
    _chat, buyers, sellers = a_chat_with_a_photo_each_way(shop)
    cover = listing_photos.add_photo(listing=shop.listing, data=photo((10, 200, 10)))
    target = tmp_path / "export.json"
    call_command("export_user", username=seller.username, output=str(target), stderr=io.StringIO())
    document = json.loads(target.read_text())

    [listing] = document["listings"]
    [listing_photo] = listing["photos"]
    assert listing_photo["size"] == cover.byte_size
    assert metadata_of(base64.b64decode(listing_photo["data_base64"])) == NO_METADATA

    [conversation] = listing["conversations"]
    theirs, mine = photos_of_messages(conversation)
    assert mine["id"] == str(sellers.uid) and mine["content_type"] == "image/jpeg"
    own = base64.b64decode(mine["data_base64"])
    assert own == media.read(sellers) and len(own) == mine["size"]
    assert metadata_of(own) == NO_METADATA  # cleaned, as it was sent
    assert theirs["id"] == str(buyers.uid) and theirs["size"] == buyers.byte_size
    assert "data_base64" not in theirs  # the buyer's photo is the buyer's data
    assert base64.b64encode(media.read(buyers)).decode() not in target.read_text()


def test_the_buyers_export_holds_their_photo_and_not_the_sellers(shop: Shop, folder: Path) -> None:
    chat, buyers, sellers = a_chat_with_a_photo_each_way(shop)
    buyer = Endpoint.objects.get(pk=chat.buyer_endpoint_id)
    document = accounts.export_endpoint_data(endpoints=[buyer])
    text = json.dumps(document)  # what /privacy/ hands out

    [conversation] = document["conversations_as_buyer"]
    mine, theirs = photos_of_messages(conversation)
    assert base64.b64decode(mine["data_base64"]) == media.read(buyers)
    assert (mine["at"], mine["width"], mine["height"]) == (
        buyers.created_at.isoformat(),
        buyers.width,
        buyers.height,
    )
    assert theirs == {
        "id": str(sellers.uid),
        "at": sellers.created_at.isoformat(),
        "content_type": "image/jpeg",
        "width": sellers.width,
        "height": sellers.height,
        "size": sellers.byte_size,
        "note": accounts.OTHER_SIDES_PHOTO_NOTE,
    }
    assert base64.b64encode(media.read(sellers)).decode() not in text


def test_a_photo_whose_conversation_was_shredded_is_listed_as_expired(
    shop: Shop, folder: Path
) -> None:
    chat, buyers, _sellers = a_chat_with_a_photo_each_way(shop)
    buyer = Endpoint.objects.get(pk=chat.buyer_endpoint_id)
    Conversation.objects.filter(pk=chat.pk).update(wrapped_key=None)
    [conversation] = accounts.export_endpoint_data(endpoints=[buyer])["conversations_as_buyer"]
    mine, _theirs = photos_of_messages(conversation)
    assert (mine["id"], mine["data_base64"], mine["expired"]) == (str(buyers.uid), None, True)


def test_a_listing_photo_is_in_the_export_once_per_listing(
    seller: User, folder: Path, shop: Shop
) -> None:
    from marketplace import services as marketplace

    other = marketplace.create_listing(seller=seller, title="Helmet", price=Decimal(100))
    listing_photos.add_photo(listing=other, data=photo((1, 2, 3)))
    document = accounts.export_user_data(user=seller)
    counts = {listing["title"]: len(listing["photos"]) for listing in document["listings"]}
    assert counts == {shop.listing.title: 0, "Helmet": 1}
