"""Public, signed, expiring, single-purpose links to one cleaned photo for one delivery.

Twilio MMS and Instagram fetch a photo by URL, and an SMS number MMS cannot reach gets a link to
a page that shows it. Each link names one media file AND one delivery (the photo on its way to
that recipient), is signed with django.core.signing under a salt of its own per purpose (the
image, the page), and expires after RELAY_MEDIA_LINK_SECONDS. A token altered, expired, made
for another purpose, or naming a file that is not the delivery's message's is refused the same
way (LinkInvalid → 404), so a link cannot be guessed, stretched or reused for another file.
The file is served as the recipient's platform takes it (relay/services/media_fit.py).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from relay import crypto
from relay.adapters import PlatformDisabled, adapter_for
from relay.models import Delivery, MediaFile
from relay.services import media, media_fit

IMAGE_SALT = "relay.media-link.image"
PAGE_SALT = "relay.media-link.page"
# Channels whose deliveries are ever given a link: the others send the bytes themselves.
LINKED_CHANNELS = frozenset({"sms", "instagram"})


class LinkInvalid(Exception):
    """Altered, expired, of another purpose, or not this delivery's file: answer 404."""


@dataclass(frozen=True)
class LinkedPhoto:
    media: MediaFile
    delivery: Delivery


def _value(media_uid: uuid.UUID, delivery_id: int) -> str:
    # The media uid (random, 22 characters) and the delivery: short enough for an SMS.
    uid = base64.urlsafe_b64encode(media_uid.bytes).decode().rstrip("=")
    return f"{uid}.{delivery_id:x}"


def token(media_file: MediaFile, delivery_id: int, *, salt: str = IMAGE_SALT) -> str:
    return signing.TimestampSigner(salt=salt).sign(_value(media_file.uid, delivery_id))


def image_path(media_file: MediaFile, delivery_id: int) -> str:
    return reverse("relay:media_link", args=[token(media_file, delivery_id)])


def image_url(media_file: MediaFile, delivery_id: int) -> str:
    return f"{settings.RELAY_PUBLIC_URL}{image_path(media_file, delivery_id)}"


def page_url(media_file: MediaFile, delivery_id: int) -> str:
    path = reverse("relay:media_page", args=[token(media_file, delivery_id, salt=PAGE_SALT)])
    return f"{settings.RELAY_PUBLIC_URL}{path}"


def open_token(value: str, *, salt: str = IMAGE_SALT) -> LinkedPhoto:
    """The photo and delivery a token names, or LinkInvalid."""
    try:
        opened = signing.TimestampSigner(salt=salt).unsign(
            value, max_age=settings.RELAY_MEDIA_LINK_SECONDS
        )
        encoded_uid, _, encoded_delivery = opened.partition(".")
        media_uid = uuid.UUID(bytes=base64.urlsafe_b64decode(encoded_uid + "=="))
        delivery_id = int(encoded_delivery, 16)
    except (signing.BadSignature, ValueError) as error:
        raise LinkInvalid("the link does not open") from error
    found = MediaFile.objects.select_related("conversation").filter(uid=media_uid).first()
    delivery = (
        Delivery.objects.filter(pk=delivery_id, channel__in=LINKED_CHANNELS)
        .only("pk", "message_id", "channel")
        .first()
    )
    if found is None or delivery is None or found.message_id != delivery.message_id:
        raise LinkInvalid("not this delivery's photo")
    return LinkedPhoto(found, delivery)


def photo_bytes(linked: LinkedPhoto) -> tuple[bytes, str]:
    """The photo as the delivery's platform takes it; LinkInvalid once it is shredded."""
    try:
        data = media.read(linked.media)
        adapter = adapter_for(linked.delivery.channel)
    except (crypto.BodyUnreadable, PlatformDisabled) as error:
        raise LinkInvalid("the photo is gone") from error
    limit = adapter.image_max_bytes
    if linked.delivery.channel == "sms":  # Twilio's 5 MB is for the whole MMS
        siblings = MediaFile.objects.filter(message=linked.delivery.message_id)
        limit //= max(1, siblings.count())
    return media_fit.fit(
        data, linked.media.content_type, accepted=adapter.image_types, max_bytes=limit
    )
