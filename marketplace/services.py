"""Listing operations. Handles follow the listing's status: active lists get a live handle,
sold or closed ones pause it."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from contacts.models import User
from marketplace import handles
from marketplace.models import Listing, RelayHandle


class ListingError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


EDITABLE_FIELDS = ("title", "description", "price", "currency", "city", "mask_contact_details")


@transaction.atomic
def create_listing(
    *,
    seller: User,
    title: str,
    price: Decimal,
    currency: str = "IDR",
    description: str = "",
    city: str = "",
    publish: bool = True,
    mask_contact_details: bool = True,
) -> Listing:
    listing = Listing.objects.create(
        seller=seller,
        title=title.strip(),
        description=description.strip(),
        price=price,
        currency=currency,
        city=city.strip(),
        mask_contact_details=mask_contact_details,
    )
    if publish:
        publish_listing(listing=listing)
    return listing


def update_listing(*, listing: Listing, **fields: object) -> Listing:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ListingError(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    for name, value in fields.items():
        setattr(listing, name, value.strip() if isinstance(value, str) else value)
    listing.save()
    return listing


@transaction.atomic
def publish_listing(*, listing: Listing) -> RelayHandle:
    if listing.taken_down:
        raise ListingError(_("A moderator took this listing down; it cannot be published."))
    listing.status = Listing.Status.ACTIVE
    listing.save(update_fields=["status", "updated_at"])
    return handles.issue_handle(listing=listing)


@transaction.atomic
def mark_listing_sold(*, listing: Listing) -> None:
    listing.status = Listing.Status.SOLD
    listing.save(update_fields=["status", "updated_at"])
    handles.pause_handles(listing=listing)


@transaction.atomic
def close_listing(*, listing: Listing) -> None:
    listing.status = Listing.Status.CLOSED
    listing.save(update_fields=["status", "updated_at"])
    handles.pause_handles(listing=listing)


def rotate_listing_handle(*, listing: Listing) -> RelayHandle:
    return handles.rotate_handle(listing=listing)


@transaction.atomic
def take_listing_down(*, listing: Listing) -> None:
    """A moderator's decision: closed, handle paused, and the seller cannot republish it."""
    listing.taken_down = True
    listing.status = Listing.Status.CLOSED
    listing.save(update_fields=["taken_down", "status", "updated_at"])
    handles.pause_handles(listing=listing)
