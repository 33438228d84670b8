"""Instagram Messaging: webhooks with `object: "instagram"` and the account's `/messages` edge."""

from __future__ import annotations

from relay.adapters.base import OutboundMedia, OutboundText, SendResult
from relay.adapters.meta import MetaMessagingAdapter


class InstagramAdapter(MetaMessagingAdapter):
    """Senders are Instagram-scoped ids (IGSIDs); our identity is the professional account id.

    Instagram has no separate echo field: our own sends arrive as messages with `is_echo`, which
    the shared parser drops. Read receipts (`messaging_seen`) name the message read (`read.mid`).
    """

    channel = "instagram"
    expected_object = "instagram"

    def send_url(self, message: OutboundText) -> str:
        """Instagram API with Instagram Login posts to graph.instagram.com/<IG id>/messages;
        Instagram Messaging through a Facebook Page posts to graph.facebook.com/<Page id>/
        messages (Messenger Platform, "Instagram Messaging"). The relay identity says which."""
        if message.via_page_id and self.config.page_api_base:
            return f"{self.config.page_api_base.rstrip('/')}/{message.via_page_id}/messages"
        return super().send_url(message)

    def send_photo(self, message: OutboundText, photo: OutboundMedia) -> SendResult:
        """By URL: `attachment.payload.url`, a signed link the relay serves for this photo and
        this delivery only (Instagram Messaging, "Send a Message": an image by URL). The
        attachment upload API exists only through a Facebook Page (`platform=instagram` on
        /<PAGE_ID>/message_attachments), and Instagram Login accounts have no Page; the URL
        form works for both kinds of account, so there is one path."""
        return self._send_message(
            message, {"attachment": {"type": "image", "payload": {"url": photo.public_url}}}
        )
