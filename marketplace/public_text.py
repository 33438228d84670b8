"""What buyers see of a listing's own words: its title and description with contact details
hidden, so a number typed into a listing cannot route buyers around the relay.

The seller's text is stored as typed (their edit form shows it back); it is masked each time it
is shown to the public. Listings have no sender region, so numbers are read as written in
RELAY_DEFAULT_REGION and the US, and in international form.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contacts import contact_guard
from contacts.contact_guard import Kind

if TYPE_CHECKING:  # the model's public_title calls back into this module
    from marketplace.models import Listing


def public_text(text: str) -> str:
    """`text` as the public listing page shows it: each contact detail replaced."""
    return _masked(text, get_language() or "en")


@lru_cache(maxsize=4096)
def _masked(text: str, language: str) -> str:
    # Titles are rendered into every relayed message's header: the matcher runs once per
    # title and language, not once per message.
    regions = contact_guard.regions_for(None)
    return contact_guard.mask_contact_details(text, regions=regions, placeholder=_("[hidden]")).text


def hidden_from_buyers(listing: Listing) -> frozenset[Kind]:
    """The kinds of contact detail in the title or description that buyers will not see."""
    regions = contact_guard.regions_for(None)
    found = (
        contact_guard.mask_contact_details(text, regions=regions).kinds
        for text in (listing.title, listing.description)
    )
    return frozenset().union(*found)


def hidden_details_warning(listing: Listing) -> str | None:
    """The warning a seller gets after saving a listing with contact details, or None."""
    if not hidden_from_buyers(listing):
        return None
    return _(
        "Your listing contains contact details. Phone numbers, e-mail addresses and app links "
        "are hidden from buyers on the public page: buyers reach you through the listing's "
        "handle instead."
    )
