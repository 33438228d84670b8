"""Photos on a listing's public page: add (cleaned first), reorder, delete. The first is the cover.

Listing photos are public, so they are kept cleaned but in the clear, in the "listing_photos"
storage under a random name that is also their public address (never a primary key). Nothing
a camera wrote travels with them: `clean_image` re-encodes the pixels alone (no EXIF, GPS,
XMP, IPTC, ICC or comment).
"""

from __future__ import annotations

import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _

from marketplace.images import ImageRefused, clean_image
from marketplace.models import Listing, ListingPhoto

STORAGE_ALIAS = "listing_photos"


class PhotoRefused(Exception):
    """The photo cannot be added; `message` says why, in the seller's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def storage() -> Storage:
    return storages[STORAGE_ALIAS]


def photos_of(listing: Listing) -> list[ListingPhoto]:
    return list(listing.photos.order_by("position", "id"))


def _too_many() -> PhotoRefused:
    return PhotoRefused(
        _("A listing has at most %(count)d photos. Delete one to add another.")
        % {"count": ListingPhoto.MAX_PER_LISTING}
    )


def add_photo(*, listing: Listing, data: bytes) -> ListingPhoto:
    """Clean `data` and add it after the listing's other photos; PhotoRefused if it is not a
    photo the relay carries or the listing already has MAX_PER_LISTING."""
    if listing.photos.count() >= ListingPhoto.MAX_PER_LISTING:
        raise _too_many()  # before decoding: a full listing costs no work
    try:
        clean = clean_image(data)
    except ImageRefused as refused:
        raise PhotoRefused(refused.message) from None
    name = storage().save(f"{secrets.token_hex(16)}.{clean.extension}", ContentFile(clean.data))
    try:
        with transaction.atomic():
            # The listing's row is the lock: two uploads at once cannot both take the 8th place.
            Listing.objects.select_for_update().filter(pk=listing.pk).first()
            photos = listing.photos.all()
            if photos.count() >= ListingPhoto.MAX_PER_LISTING:
                raise _too_many()
            last = photos.aggregate(last=Max("position"))["last"]
            return ListingPhoto.objects.create(
                listing=listing,
                position=0 if last is None else last + 1,
                storage_name=name,
                content_type=clean.content_type,
                width=clean.width,
                height=clean.height,
                byte_size=len(clean.data),
            )
    except BaseException:
        storage().delete(name)  # nothing half-added: the file goes with the refused row
        raise


@transaction.atomic
def move_photo(*, photo: ListingPhoto, by: int) -> None:
    """Move a photo one place earlier (by=-1) or later (by=+1); at an end nothing changes."""
    photos = photos_of(photo.listing)
    index = next(i for i, one in enumerate(photos) if one.pk == photo.pk)
    target = index + by
    if by not in (-1, 1) or not 0 <= target < len(photos):
        return
    photos[index], photos[target] = photos[target], photos[index]
    _renumber(photos)


@transaction.atomic
def delete_photo(*, photo: ListingPhoto) -> None:
    """Delete a photo and its file; the others close the gap (the next becomes the cover)."""
    listing = photo.listing
    photo.delete()  # the file goes after commit (delete_file_after_commit)
    _renumber(photos_of(listing))


def delete_file_after_commit(sender: object, instance: ListingPhoto, **kwargs: object) -> None:
    """post_delete of a ListingPhoto (connected in marketplace/apps.py): the file goes once the
    row's deletion is committed, so a rollback keeps both; a cascade (a listing or an account
    deleted) sends this for every row too."""
    name = instance.storage_name
    transaction.on_commit(lambda: storage().delete(name))


def delete_photos_of(listings: QuerySet[Listing]) -> int:
    """Delete these listings' photos, rows and (after commit) files; returns how many."""
    count, _by_model = ListingPhoto.objects.filter(listing__in=listings).delete()
    return count


def _renumber(photos: list[ListingPhoto]) -> None:
    for position, one in enumerate(photos):
        if one.position != position:
            one.position = position
            one.save(update_fields=["position"])
