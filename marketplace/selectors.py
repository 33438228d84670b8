"""Listing reads that depend on who asks."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from contacts.models import User
from marketplace.models import Listing


def listings_for_seller(user: User) -> QuerySet[Listing]:
    return Listing.objects.filter(seller=user).prefetch_related("handles")


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
