"""Photos in conversations: the storage holds ciphertext only, a sealed file opens only for its
own row, a refused file leaves nothing behind, the per-sender photo limit holds on a web road
and a platform road, and a report seals the reported side's photos for the moderator to see.
"""

from __future__ import annotations

import base64
import io
import re
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from contacts.models import MODERATOR_GROUP, User
from marketplace import services as marketplace
from marketplace.handles import live_handle
from marketplace.images import ImageRefused
from marketplace.models import Listing
from relay import crypto
from relay import services as relay
from relay.adapters.base import InboundMessage, MessageKind
from relay.models import Conversation, Delivery, MediaFile, Message, Report, Side
from relay.pipeline import accept_event, roads
from relay.services import evidence, media, moderation, web
from tests.fixtures.photos import camera_png, metadata_in, pixel
from tests.fixtures.storage import media_folder, photo, stored_files

pytestmark = pytest.mark.django_db
WA = "100000000000001"
ANA = "+6281234567001"


@pytest.fixture
def folder(settings: Any, tmp_path: Path) -> Path:
    return media_folder(settings, tmp_path / "media")


@pytest.fixture
def listing(seller: User) -> Listing:
    relay.add_relay_identity(channel="whatsapp", provider_id=WA, address="15550001111")
    return marketplace.create_listing(seller=seller, title="Mountain bike", price=Decimal(10))


def whatsapp(text: str, *, has_media: bool = False) -> str:
    """A WhatsApp message from Ana; the outcome, or the notice code she was sent."""
    before = set(Delivery.objects.values_list("pk", flat=True))
    accepted = accept_event(
        event=InboundMessage(
            channel="whatsapp",
            provider_message_id="wamid." + secrets.token_hex(8),
            sender_address=ANA,
            identity_provider_id=WA,
            text=text,
            timestamp=timezone.now(),
            has_media=has_media,
            kind=MessageKind.MEDIA if has_media else MessageKind.TEXT,
        )
    )
    codes = [d.notice_code for d in Delivery.objects.exclude(pk__in=before).filter(kind="notice")]
    return accepted.outcome if accepted.outcome == "relayed" else ",".join(codes)


def handle(listing: Listing) -> str:
    found = live_handle(listing)
    assert found is not None
    return found.display


def conversation_with_ana(
    listing: Listing, django_capture_on_commit_callbacks: Any
) -> Conversation:
    with django_capture_on_commit_callbacks(execute=False):
        assert whatsapp(f"{handle(listing)} is the bike available?") == "relayed"
    return Conversation.objects.get()


# --- Storage --------------------------------------------------------------------------------------


def test_the_storage_holds_ciphertext_only_and_read_gives_the_cleaned_photo(
    folder: Path, listing: Listing, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)
    original = photo()

    stored = media.store(
        conversation=conversation, data=original, sender_side=Side.BUYER, name="IMG_2041.jpg"
    )

    [path] = stored_files(folder)
    on_disk = path.read_bytes()
    opened = media.read(stored)
    # What the storage keeps says nothing: no JPEG or PNG header, none of the pixels' bytes,
    # no metadata, and its name is random, not the sender's.
    assert not on_disk.startswith((b"\xff\xd8", b"\x89PNG", b"RIFF"))
    assert b"\xff\xd8\xff" not in on_disk and b"JFIF" not in on_disk and b"Exif" not in on_disk
    assert opened[64:128] not in on_disk
    assert "IMG_2041" not in path.name and stored.storage_name == path.name
    assert b"IMG_2041" not in bytes(stored.name_sealed or b"")
    # What opens is the cleaned photo.
    assert opened.startswith(b"\xff\xd8") and metadata_in(opened) == []
    assert Image.open(io.BytesIO(opened)).size == (48, 32) == (stored.width, stored.height)
    assert stored.byte_size == len(opened) and stored.content_type == "image/jpeg"
    assert media.file_name(stored) == "IMG_2041.jpg"


def test_a_sealed_photo_moved_to_another_row_does_not_open(
    folder: Path, listing: Listing, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)
    red = media.store(conversation=conversation, data=photo(), sender_side=Side.BUYER, name="a")
    blue = media.store(
        conversation=conversation, data=photo((20, 20, 200)), sender_side=Side.BUYER, name="b"
    )
    assert media.read(blue)  # it opens where it belongs: the test can fail

    # Someone with write access to the database points the blue row at the red file, and
    # copies the red name onto it: the associated data (the row's uid) refuses both.
    MediaFile.objects.filter(pk=blue.pk).update(
        storage_name=red.storage_name, name_sealed=red.name_sealed
    )
    blue.refresh_from_db()
    with pytest.raises(crypto.BodyUnreadable):
        media.read(blue)
    with pytest.raises(crypto.BodyUnreadable):
        media.file_name(blue)
    assert pixel(Image.open(io.BytesIO(media.read(red))), (4, 4))[0] > 150  # red still opens


def test_a_photo_does_not_open_under_another_conversations_key(
    folder: Path, listing: Listing, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)
    stored = media.store(conversation=conversation, data=photo(), sender_side=Side.BUYER)
    other = Conversation.objects.get(pk=conversation.pk)
    other.code, other.wrapped_key = "ZZZZ", crypto.new_wrapped_key("ZZZZ")
    with pytest.raises(crypto.BodyUnreadable):
        media.read(stored, conversation=other)


@pytest.mark.parametrize(
    ("data", "claimed_type", "name", "reason"),
    [
        (camera_png(), "image/jpeg", "photo.jpg", "mismatch"),
        (b"<html><body>hi</body></html>", "image/png", "photo.png", "not_an_image"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"/>',
            "image/svg+xml",
            "a.svg",
            "unsupported_type",
        ),
        (photo()[:-300], "image/jpeg", "cut.jpg", "damaged"),
        (b"", "", "", "empty"),
    ],
)
def test_a_refused_file_leaves_no_row_and_no_stored_file(
    folder: Path,
    listing: Listing,
    django_capture_on_commit_callbacks: Any,
    data: bytes,
    claimed_type: str,
    name: str,
    reason: str,
) -> None:
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)
    with pytest.raises(ImageRefused) as refused:
        media.store(
            conversation=conversation,
            data=data,
            sender_side=Side.BUYER,
            name=name,
            claimed_type=claimed_type,
        )
    assert refused.value.reason == reason and refused.value.message
    assert not MediaFile.objects.exists()
    assert stored_files(folder) == []


# --- The per-sender photo limit -----------------------------------------------------------------


def test_a_web_chat_buyer_past_the_photo_limit_is_told_and_nothing_is_relayed(
    folder: Path, listing: Listing, settings: Any
) -> None:
    settings.RELAY_LIMIT_MEDIA_PER_HOUR = 3
    buyer = web.browser_endpoint(signed=None, language="en")
    started = roads.start_chat(
        listing=listing, text="Hello, still for sale?", buyer=buyer, network_key="n1"
    )
    conversation = started.conversation
    assert conversation is not None

    def send(photos: int) -> roads.Result:
        files = [
            media.store(conversation=conversation, data=photo(), sender_side=Side.BUYER)
            for _ in range(photos)
        ]
        return roads.buyer_message(
            buyer=buyer, conversation=conversation, text="Look at this", media=files
        )

    assert send(2).delivered
    messages_before = Message.objects.count()
    with pytest.raises(roads.Refused) as refused:
        send(2)  # 4 photos in the hour: over 3
    assert "many photos in the last hour (the limit is 3)" in refused.value.message
    assert "not forwarded" in refused.value.message
    assert Message.objects.count() == messages_before
    # Text alone still goes: the limit is on photos, not on talking.
    assert roads.buyer_message(buyer=buyer, conversation=conversation, text="ok?").delivered


def test_the_sellers_web_inbox_counts_photos_too(
    folder: Path,
    listing: Listing,
    settings: Any,
    seller: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.RELAY_LIMIT_MEDIA_PER_HOUR = 1
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)

    def reply() -> roads.Result:
        file = media.store(conversation=conversation, data=photo(), sender_side=Side.SELLER)
        with django_capture_on_commit_callbacks(execute=False):
            return roads.seller_reply(
                seller=seller, conversation=conversation, text="Here it is", media=[file]
            )

    assert reply().delivered
    with pytest.raises(roads.Refused) as refused:
        reply()
    assert refused.value.result.outcome == "rate_limited"


def test_a_whatsapp_buyer_past_the_photo_limit_gets_the_notice_in_their_app(
    listing: Listing, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.RELAY_LIMIT_MEDIA_PER_HOUR = 2
    conversation_with_ana(listing, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        assert whatsapp("the scratch", has_media=True) == "relayed"
        assert whatsapp("and the receipt", has_media=True) == "relayed"
        assert whatsapp("and the box", has_media=True) == "media_slow_down"
        # A text without a photo is not held back by the photo limit.
        assert whatsapp("which one do you prefer?") == "relayed"
    notice = Delivery.objects.filter(notice_code="media_slow_down").get()
    assert notice.notice_params == {"limit": "2"}


# --- Report evidence ------------------------------------------------------------------------------


def moderator_client() -> Client:
    moderator = User.objects.create_user(username="mod", password="mod-password-123")
    moderator.groups.add(Group.objects.get_or_create(name=MODERATOR_GROUP)[0])
    client = Client()
    client.force_login(moderator)
    return client


def test_a_report_seals_the_reported_sides_photos_and_the_moderator_sees_them(
    folder: Path, listing: Listing, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.RELAY_REPORT_EVIDENCE_PHOTOS = 2
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)
    message = Message.objects.get()
    colours = [(200, 30, 30), (30, 180, 30), (30, 30, 200)]
    for colour in colours:  # the oldest (red) is beyond the limit of two
        media.store(
            conversation=conversation, data=photo(colour), sender_side=Side.BUYER, message=message
        )
    media.store(
        conversation=conversation, data=photo((250, 250, 0)), sender_side=Side.BUYER
    )  # never sent

    report = moderation.file_report(
        reporter_side=Side.SELLER, reason=Report.Reason.SCAM, conversation=conversation
    )

    # In the database the evidence is ciphertext: no image, no base64 of one.
    sealed = bytes(Report.objects.get(pk=report.pk).evidence_sealed or b"")
    # (Markers long enough that ciphertext does not hold them by chance: a two-byte one
    # turns up in about one sealed report of this size in three.)
    assert b"\xff\xd8\xff" not in sealed and b"JFIF" not in sealed
    assert b"/9j/" not in sealed and b"image/jpeg" not in sealed
    assert len(evidence.open_report_fields(report).evidence) == 3  # the text and two photos

    page = moderator_client().post(reverse("relay:moderation_evidence", args=[report.code]))

    html = page.content.decode()
    shown = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(shown) == 2
    seen = [Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB") for b64 in shown]
    assert [pixel(image, (4, 4))[1] > 120 for image in seen] == [True, False]  # green, blue
    assert all(metadata_in(base64.b64decode(b64)) == [] for b64 in shown)
    assert 'alt="Photo sent by Buyer' in html
    assert "is the bike available?" in html
    assert "http" not in "".join(re.findall(r'<img [^>]*src="([^"]+)"', html))  # no public URL


def test_a_report_on_the_seller_seals_the_sellers_photos_not_the_buyers(
    folder: Path, listing: Listing, seller: User, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)
    buyer_message = Message.objects.get()
    media.store(
        conversation=conversation, data=photo(), sender_side=Side.BUYER, message=buyer_message
    )
    with django_capture_on_commit_callbacks(execute=False):
        roads.seller_reply(seller=seller, conversation=conversation, text="Pay first")
    seller_message = Message.objects.get(sender_side=Side.SELLER)
    media.store(
        conversation=conversation,
        data=photo((30, 30, 200)),
        sender_side=Side.SELLER,
        message=seller_message,
    )

    report = moderation.file_report(
        reporter_side=Side.BUYER, reason=Report.Reason.SCAM, conversation=conversation
    )

    items = evidence.open_report_fields(report).evidence
    photos = [item for item in items if item.get("photo")]
    assert len(photos) == 1 and photos[0]["author"].startswith("Seller")
    image = Image.open(io.BytesIO(base64.b64decode(photos[0]["photo"]))).convert("RGB")
    assert pixel(image, (4, 4))[2] > 150  # the seller's blue photo


def test_a_photo_whose_file_is_gone_leaves_the_report_filed_without_it(
    folder: Path, listing: Listing, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = conversation_with_ana(listing, django_capture_on_commit_callbacks)
    stored = media.store(
        conversation=conversation,
        data=photo(),
        sender_side=Side.BUYER,
        message=Message.objects.get(),
    )
    (folder / stored.storage_name).unlink()

    report = moderation.file_report(
        reporter_side=Side.SELLER, reason=Report.Reason.SPAM, conversation=conversation
    )

    items = evidence.open_report_fields(report).evidence
    assert [item["text"] for item in items] == [f"{handle(listing)} is the bike available?"]
    assert report.status == Report.Status.OPEN
