"""Facebook Messenger: Page webhooks (`object: "page"`) and the Page Send API."""

from __future__ import annotations

from relay.adapters.meta import MetaMessagingAdapter


class MessengerAdapter(MetaMessagingAdapter):
    """Senders are Page-scoped ids (PSIDs); our identity is the Page id."""

    channel = "messenger"
    expected_object = "page"
