"""The photos a delivery carries, as the recipient's platform takes them (issue #16).

Web recipients need nothing sent: the MediaFile rows are the message's and the inbox or chat
shows them. A platform recipient gets each photo fitted to its documented limits
(relay/services/media_fit.py); Twilio and Instagram fetch it by a signed link made for this
delivery (relay/services/media_links.py); an SMS number that MMS cannot reach gets a text with a
link to a page showing the photo instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from contacts import services as contacts
from contacts.models import Channel
from relay.adapters.base import (
    Adapter,
    OutboundMedia,
    OutboundText,
    PermanentSendError,
    SendResult,
)
from relay.adapters.sms import mms_reaches
from relay.models import Delivery, MediaFile
from relay.services import media, media_fit, media_links


@dataclass(frozen=True)
class StoredPhoto:
    media: MediaFile
    data: bytes  # cleaned (no metadata), as stored


def for_delivery(delivery: Delivery) -> list[StoredPhoto]:
    """The message's photos in the order sent; crypto.BodyUnreadable once shredded."""
    if (
        delivery.kind != Delivery.Kind.RELAY
        or not delivery.notice_params.get("photos")
        or delivery.channel == Channel.WEB
    ):
        return []
    files = MediaFile.objects.filter(message=delivery.message_id).order_by("id")
    return [
        StoredPhoto(file, media.read(file, conversation=delivery.conversation)) for file in files
    ]


def photos_for_platform(
    delivery: Delivery, adapter: Adapter, text: str, photos: list[StoredPhoto]
) -> tuple[str, tuple[OutboundMedia, ...]]:
    """(text, photos) to hand the adapter."""
    if not photos:
        return text, ()
    if delivery.channel == Channel.SMS and (
        delivery.notice_params.get(MMS_REFUSED)
        or not mms_reaches(contacts.endpoint_address(delivery.recipient_endpoint))
    ):
        return _with_page_links(delivery, text, photos), ()
    limit = adapter.image_max_bytes
    if delivery.channel == Channel.SMS:  # Twilio's 5 MB is for the whole MMS
        limit //= len(photos)
    linked = delivery.channel in media_links.LINKED_CHANNELS
    sent = []
    for photo in photos:
        data, content_type = media_fit.fit(
            photo.data, photo.media.content_type, accepted=adapter.image_types, max_bytes=limit
        )
        sent.append(
            OutboundMedia(
                data=data,
                content_type=content_type,
                file_name="photo.png" if content_type == "image/png" else "photo.jpg",
                public_url=media_links.image_url(photo.media, delivery.pk) if linked else "",
            )
        )
    return text, tuple(sent)


# Twilio's "this cannot go as MMS": 21621, the relay's number is not enabled for MMS (answered
# to the send), 30011, MMS not supported by the receiving number (twilio.com/docs/api/errors).
MMS_UNAVAILABLE = frozenset({"21621", "30011"})
# Set in a delivery's notice_params when a status callback said its MMS could not be taken
# (relay/services/statuses.py): the next attempt sends the text with links to the photo page.
MMS_REFUSED = "mms_refused"


def send(
    adapter: Adapter, message: OutboundText, delivery: Delivery, photos: list[StoredPhoto]
) -> SendResult:
    """Send; an MMS Twilio refuses as such goes again as a text with links to the photo page.
    (30011 can also come later, in a status callback: relay/services/statuses.py then sets
    MMS_REFUSED and the delivery goes again, as that text.)"""
    try:
        return adapter.send(message)
    except PermanentSendError as error:
        if not (
            message.media and delivery.channel == Channel.SMS and error.code in MMS_UNAVAILABLE
        ):
            raise
    text = _with_page_links(delivery, message.text, photos)
    return adapter.send(dataclasses.replace(message, text=text, media=()))


def _with_page_links(delivery: Delivery, text: str, photos: list[StoredPhoto]) -> str:
    language = delivery.recipient_endpoint.language or settings.RELAY_DEFAULT_LANGUAGE
    with translation.override(language):
        lines = [
            _("Photo (opens for an hour): {url}").format(
                url=media_links.page_url(photo.media, delivery.pk)
            )
            for photo in photos
        ]
    return "\n".join([text, *lines])
