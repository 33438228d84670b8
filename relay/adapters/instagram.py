"""Instagram Messaging: webhooks with `object: "instagram"` and the account's `/messages` edge."""

from __future__ import annotations

from relay.adapters.meta import MetaMessagingAdapter


class InstagramAdapter(MetaMessagingAdapter):
    """Senders are Instagram-scoped ids (IGSIDs); our identity is the professional account id.

    Instagram has no separate echo field: our own sends arrive as messages with `is_echo`, which
    the shared parser drops. Read receipts (`messaging_seen`) name the message read (`read.mid`).
    """

    channel = "instagram"
    expected_object = "instagram"
