"""The activity charts on the seller's dashboard.

The dashboard's view lives in marketplace, below relay (the layers in pyproject.toml), and
cannot read conversations; templates sit above every layer, as for relay_identities.py. One
call per page computes every listing at once (relay/services/activity.py: two statements).
"""

from __future__ import annotations

from collections.abc import Sequence

from django import template

from contacts.models import User
from marketplace.activity import Chart, ListingActivity, chart
from marketplace.selectors import DashboardRow
from relay.services.activity import activity_for_listings

register = template.Library()


@register.simple_tag
def dashboard_activity(
    user: User, rows: Sequence[DashboardRow]
) -> list[tuple[DashboardRow, ListingActivity | None, Chart | None]]:
    """`{% dashboard_activity user rows as rows %}`: each row with its activity and chart.

    A draft has neither: no buyer could have written to it.
    """
    shown = [row.listing.id for row in rows if row.listing.status != row.listing.Status.DRAFT]
    activity = activity_for_listings(seller=user, listing_ids=shown)
    result: list[tuple[DashboardRow, ListingActivity | None, Chart | None]] = []
    for row in rows:
        listing_activity = activity.get(row.listing.id)
        result.append(
            (row, listing_activity, chart(listing_activity) if listing_activity else None)
        )
    return result
