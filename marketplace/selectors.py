"""Listing reads that depend on who asks."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from contacts.models import User
from marketplace import handles, sharing
from marketplace.models import Listing, ListingPhoto, RelayHandle


def listings_for_seller(user: User) -> QuerySet[Listing]:
    return Listing.objects.filter(seller=user).prefetch_related("handles", "photos")


@dataclass(frozen=True)
class DashboardRow:
    listing: Listing
    handle: RelayHandle | None
    share: sharing.Share | None  # only while buyers can write: a paused handle is no use


def dashboard_rows(user: User) -> list[DashboardRow]:
    """The seller's listings with their live handle, in two statements whatever their number.

    The live handle is picked from the prefetched handles: `handles.live_handle()` filters in
    the database, one statement per listing.
    """
    rows = []
    for listing in listings_for_seller(user):
        handle = next(
            (h for h in listing.handles.all() if h.status != RelayHandle.Status.RETIRED), None
        )
        share = None
        if handle is not None and handle.status == RelayHandle.Status.ACTIVE and listing.is_open:
            share = sharing.share_for(listing, handle)
        rows.append(DashboardRow(listing=listing, handle=handle, share=share))
    return rows


def listing_for_seller(user: User, code: str) -> Listing:
    """The seller's own listing; another seller's is indistinguishable from a missing one."""
    listing = Listing.objects.filter(seller=user, code=code).first()
    if listing is None:
        raise Http404("No such listing")
    return listing


def public_listing(code: str) -> Listing:
    listing = (
        Listing.objects.exclude(status=Listing.Status.DRAFT)
        .filter(code=code, taken_down=False)
        .first()
    )
    if listing is None:
        raise Http404("No such listing")
    return listing


def listing_for_handle(text: str) -> Listing | None:
    """The public listing a buyer's typed handle names, or None.

    A retired handle finds nothing: the seller replaced it, often because it was abused.
    """
    handle = handles.lookup_handle(text)
    if handle is None or handle.status == RelayHandle.Status.RETIRED:
        return None
    listing = handle.listing
    if listing.status == Listing.Status.DRAFT or listing.taken_down:
        return None
    return listing


def listing_photo(viewer: User | AnonymousUser, code: str, name: str) -> tuple[ListingPhoto, bool]:
    """A listing photo by its public name and whether anyone may see it (True: the listing's
    public page shows it) or only its seller (a draft, a listing taken down). Anything else,
    another seller's draft included, is a missing photo (Http404)."""
    photo = (
        ListingPhoto.objects.select_related("listing")
        .filter(listing__code=code, storage_name=name)
        .first()
    )
    if photo is None:
        raise Http404("No such photo")
    listing = photo.listing
    public = listing.status != Listing.Status.DRAFT and not listing.taken_down
    if not public and listing.seller_id != getattr(viewer, "pk", None):
        raise Http404("No such photo")
    return photo, public


def listing_photo_for_seller(user: User, code: str, name: str) -> ListingPhoto:
    """A photo of the seller's own listing, for the edit page's buttons."""
    photo = (
        ListingPhoto.objects.select_related("listing")
        .filter(listing__seller=user, listing__code=code, storage_name=name)
        .first()
    )
    if photo is None:
        raise Http404("No such photo")
    return photo
