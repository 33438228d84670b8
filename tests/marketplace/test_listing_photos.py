"""Listing photos: up to 8, cleaned, ordered (the first is the cover), deleted with their file,
shown on the public page and as the product card of the seller's conversations."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from contacts.models import User
from marketplace import photos
from marketplace import services as marketplace
from marketplace.models import Listing, ListingPhoto
from tests.api.conftest import open_shop
from tests.photo_samples import SVG, jpeg_with_gps, metadata_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Kamera analog", price=Decimal(1500000))


def upload(data: bytes | None = None, name: str = "DSC_0001.jpg") -> Any:
    return SimpleUploadedFile(name, jpeg_with_gps() if data is None else data, "image/jpeg")


def add_url(listing: Listing) -> str:
    return reverse("marketplace:listing_photo_add", args=[listing.code])


def change_url(photo: ListingPhoto, action: str) -> str:
    return reverse(
        "marketplace:listing_photo_change",
        args=[photo.listing.code, photo.storage_name, action],
    )


def page(response: Any) -> str:
    return html.unescape(response.content.decode())


def public_srcs(listing: Listing) -> list[str]:
    shown = page(Client().get(reverse("marketplace:listing_public", args=[listing.code])))
    return re.findall(r'class="gallery-item[^"]*" href="[^"]+"><img src="([^"]+)"', shown)


def test_a_seller_adds_photos_and_the_public_page_shows_them_cleaned(
    seller_client: Client, listing: Listing
) -> None:
    answer = seller_client.post(
        add_url(listing), {"photos": [upload(), upload(jpeg_with_gps(300, 400))]}, follow=True
    )
    assert "2 photos added." in page(answer)
    srcs = public_srcs(listing)
    assert len(srcs) == 2
    public = page(Client().get(reverse("marketplace:listing_public", args=[listing.code])))
    assert 'alt="Kamera analog, photo 1 of 2"' in public
    assert 'width="640" height="480"' in public and 'loading="lazy"' in public
    served = Client().get(srcs[0])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert "public" in served["Cache-Control"] and "max-age=" in served["Cache-Control"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert metadata_of(served.content) == {"exif": {}, "gps": {}, "info": {}, "camera_named": False}


def test_the_page_script_gets_json_naming_the_page_to_show(
    seller_client: Client, listing: Listing
) -> None:
    answer = seller_client.post(
        add_url(listing), {"photos": [upload()]}, HTTP_ACCEPT="application/json"
    )
    assert answer.json()["redirect"].endswith(f"/dashboard/listings/{listing.code}/#photos")
    assert "1 photo added." in page(seller_client.get(answer.json()["redirect"]))


def test_a_listing_holds_at_most_eight_photos(seller_client: Client, listing: Listing) -> None:
    small = jpeg_with_gps(40, 30)
    seller_client.post(add_url(listing), {"photos": [upload(small) for _ in range(6)]})
    answer = seller_client.post(
        add_url(listing),
        {"photos": [upload(small, f"extra{n}.jpg") for n in range(3)]},
        follow=True,
    )
    shown = page(answer)
    assert "2 photos added." in shown
    assert "extra2.jpg: A listing has at most 8 photos. Delete one to add another." in shown
    assert listing.photos.count() == 8
    assert "all the photos it can hold" in shown  # the upload form is gone
    with pytest.raises(photos.PhotoRefused):
        photos.add_photo(listing=listing, data=small)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"GIF89a not really", "not a photo the relay can carry"),
        (SVG, "Only JPEG, PNG and WebP"),
        (jpeg_with_gps()[:500], "damaged or incomplete"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_and_nothing_kept(
    seller_client: Client, listing: Listing, data: bytes, said: str
) -> None:
    answer = seller_client.post(add_url(listing), {"photos": [upload(data, "x.jpg")]}, follow=True)
    assert said in page(answer)
    assert listing.photos.count() == 0


def test_an_oversize_photo_is_refused(
    seller_client: Client, listing: Listing, monkeypatch: Any
) -> None:
    monkeypatch.setattr("marketplace.uploads.MAX_BYTES", 2000)
    answer = seller_client.post(
        add_url(listing), {"photos": [upload()]}, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 400
    assert "too large" in page(seller_client.get(answer.json()["redirect"]))
    assert listing.photos.count() == 0


def test_photos_move_and_the_first_is_the_cover(seller_client: Client, listing: Listing) -> None:
    for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255)):
        photos.add_photo(listing=listing, data=jpeg_with_gps(colour=colour))
    first, second, third = photos.photos_of(listing)
    seller_client.post(change_url(third, "up"))
    assert [p.pk for p in photos.photos_of(listing)] == [first.pk, third.pk, second.pk]
    seller_client.post(change_url(first, "down"))
    assert [p.pk for p in photos.photos_of(listing)] == [third.pk, first.pk, second.pk]
    seller_client.post(change_url(second, "down"))  # already last: nothing changes
    assert [p.pk for p in photos.photos_of(listing)] == [third.pk, first.pk, second.pk]
    assert third.storage_name in public_srcs(listing)[0]  # the cover leads the gallery


def test_deleting_a_photo_removes_its_file_and_closes_the_gap(
    seller_client: Client, listing: Listing, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(3):
        photos.add_photo(listing=listing, data=jpeg_with_gps(50, 50))
    first, second, third = photos.photos_of(listing)
    with django_capture_on_commit_callbacks(execute=True):
        answer = seller_client.post(change_url(first, "delete"), follow=True)
    assert "Photo deleted." in page(answer)
    assert not photos.storage().exists(first.storage_name)
    assert [(p.pk, p.position) for p in photos.photos_of(listing)] == [
        (second.pk, 0),
        (third.pk, 1),
    ]
    assert Client().get(f"/l/{listing.code}/photos/{first.storage_name}").status_code == 404


def test_another_seller_cannot_add_move_or_delete(listing: Listing, other_seller: User) -> None:
    photo = photos.add_photo(listing=listing, data=jpeg_with_gps(50, 50))
    intruder = Client()
    intruder.force_login(other_seller)
    assert intruder.post(add_url(listing), {"photos": [upload()]}).status_code == 404
    assert intruder.post(change_url(photo, "delete")).status_code == 404
    assert intruder.post(change_url(photo, "up")).status_code == 404
    assert listing.photos.count() == 1


def test_a_drafts_photos_are_seen_by_its_seller_only(
    seller: User, seller_client: Client, other_seller: User
) -> None:
    draft = marketplace.create_listing(
        seller=seller, title="Belum siap", price=Decimal(1), publish=False
    )
    photo = photos.add_photo(listing=draft, data=jpeg_with_gps(50, 50))
    url = reverse("marketplace:listing_photo", args=[draft.code, photo.storage_name])
    mine = seller_client.get(url)
    assert mine.status_code == 200 and "no-store" in mine["Cache-Control"]
    assert Client().get(url).status_code == 404
    intruder = Client()
    intruder.force_login(other_seller)
    assert intruder.get(url).status_code == 404
    assert Client().get(f"/l/{draft.code}/photos/made-up.jpg").status_code == 404


def test_the_edit_page_lists_the_photos_with_their_controls(
    seller_client: Client, listing: Listing
) -> None:
    for _ in range(2):
        photos.add_photo(listing=listing, data=jpeg_with_gps(50, 50))
    shown = page(seller_client.get(reverse("marketplace:listing_edit", args=[listing.code])))
    assert "Cover" in shown
    assert "Move photo 2 earlier" in shown and "Move photo 1 later" in shown
    assert "Delete this photo?" in shown  # the confirmation dialog
    assert "removes location and camera details" in shown


def test_the_sellers_conversation_shows_the_listing_as_a_product_card(
    seller_client: Client, listing: Listing
) -> None:
    cover = photos.add_photo(listing=listing, data=jpeg_with_gps(50, 50))
    Client().post(reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Masih ada?"})
    conversation = listing.conversations.get()
    shown = page(seller_client.get(reverse("relay:conversation", args=[conversation.code])))
    card = re.search(r'<a class="product-card".*?</a>', shown, re.S)
    assert card is not None
    assert cover.storage_name in card.group(0)
    assert "Kamera analog" in card.group(0) and "Rp 1,500,000" in card.group(0)


def test_the_api_lists_a_listings_photo_addresses_cover_first(seller: User) -> None:
    shop = open_shop(seller, "Sepeda gunung")
    first = photos.add_photo(listing=shop.listing, data=jpeg_with_gps(50, 50))
    second = photos.add_photo(listing=shop.listing, data=jpeg_with_gps(60, 50))
    photos.move_photo(photo=second, by=-1)
    expected = [
        f"/l/{shop.listing.code}/photos/{second.storage_name}",
        f"/l/{shop.listing.code}/photos/{first.storage_name}",
    ]
    assert shop.api.get(f"/api/listings/{shop.listing.code}/").json()["photos"] == expected
    listed = shop.api.get("/api/listings/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["photos"] for row in rows if row["code"] == shop.listing.code] == [expected]
    assert Client().get(expected[0]).status_code == 200


def test_a_listing_deleted_takes_its_photo_files_with_it(
    listing: Listing, django_capture_on_commit_callbacks: Any
) -> None:
    kept_elsewhere = marketplace.create_listing(
        seller=listing.seller, title="Lensa", price=Decimal(500000)
    )
    gone = [photos.add_photo(listing=listing, data=jpeg_with_gps(50, 50)) for _ in range(2)]
    other = photos.add_photo(listing=kept_elsewhere, data=jpeg_with_gps(50, 50))
    with django_capture_on_commit_callbacks(execute=True):
        listing.delete()  # the admin's delete, or a cascade
    for photo in gone:
        assert not photos.storage().exists(photo.storage_name)
    assert photos.storage().exists(other.storage_name)
    assert Client().get(f"/l/{kept_elsewhere.code}/photos/{other.storage_name}").status_code == 200


def test_a_rolled_back_deletion_keeps_the_photo_file(listing: Listing) -> None:
    from django.db import transaction

    photo = photos.add_photo(listing=listing, data=jpeg_with_gps(50, 50))
    with pytest.raises(RuntimeError), transaction.atomic():
        listing.delete()
        raise RuntimeError("rolled back")
    assert photos.storage().exists(photo.storage_name)
    assert ListingPhoto.objects.filter(pk=photo.pk).exists()


def test_erasing_a_sellers_account_deletes_their_listing_photos_and_files(
    seller: User, listing: Listing, django_capture_on_commit_callbacks: Any
) -> None:
    import io

    from django.core.management import call_command

    photo = photos.add_photo(listing=listing, data=jpeg_with_gps(50, 50))
    url = reverse("marketplace:listing_photo", args=[listing.code, photo.storage_name])
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "delete_user", username=seller.username, yes=True, stdout=out, stderr=io.StringIO()
        )
    assert "and 1 listing photos" in out.getvalue()
    assert not ListingPhoto.objects.filter(listing=listing).exists()
    assert not photos.storage().exists(photo.storage_name)
    assert Client().get(url).status_code == 404
