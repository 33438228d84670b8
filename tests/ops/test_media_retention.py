"""Photos leave with their conversation: `purge`, `delete_user` and a buyer's erasure delete the
rows and the stored files, and what is left cannot be opened; key rotation keeps every photo
readable (the conversation key is re-wrapped, never changed)."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Endpoint, User
from relay import crypto
from relay.models import Conversation, MediaFile, Message, Side
from relay.pipeline import roads
from relay.services import accounts, media
from tests.fixtures.storage import media_folder, photo, stored_files
from tests.ops.conftest import Shop, days_ago, open_shop

pytestmark = pytest.mark.django_db
SELLER_PHONE = "+6281299990001"


@pytest.fixture
def folder(settings: Any, tmp_path: Path) -> Path:
    return media_folder(settings, tmp_path / "media")


def photo_in(
    conversation: Conversation, *, side: str = Side.BUYER, colour: Any = (200, 30, 30)
) -> MediaFile:
    """A photo sent with the conversation's latest message of `side`."""
    message = Message.objects.filter(conversation=conversation, sender_side=side).latest("id")
    return media.store(
        conversation=conversation, data=photo(colour), sender_side=side, message=message
    )


def unreadable(file: MediaFile) -> bool:
    try:
        media.read(file, conversation=Conversation.objects.get(pk=file.conversation_id))
    except crypto.BodyUnreadable:
        return True
    return False


def purge(**options: Any) -> str:
    out = io.StringIO()
    call_command("purge", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_purge_deletes_the_photos_of_shredded_conversations_and_keeps_newer_ones(
    shop: Shop, folder: Path
) -> None:
    old = shop.write("+6281234567001", "old closed chat")
    recent = shop.write("+6281234567002", "recently closed chat")
    gone = [photo_in(old), photo_in(old, colour=(0, 0, 200))]
    kept = photo_in(recent)
    Conversation.objects.filter(pk=old.pk).update(status="closed", closed_at=days_ago(120))
    Conversation.objects.filter(pk=recent.pk).update(status="closed", closed_at=days_ago(10))
    assert not unreadable(gone[0])  # readable before: the test can fail
    assert len(stored_files(folder)) == 3

    assert "Would delete 2 photos" in purge(dry_run=True)
    assert len(stored_files(folder)) == 3

    done = purge()

    assert "Shredded 1 conversations" in done and "Deleted 2 photos" in done
    assert [path.name for path in stored_files(folder)] == [kept.storage_name]
    assert list(MediaFile.objects.all()) == [kept]
    assert unreadable(gone[0])  # the key is gone too: a copy of the file would not open
    assert media.read(kept)


def test_purge_deletes_uploads_no_message_took_and_stray_files_after_their_grace(
    shop: Shop, folder: Path
) -> None:
    chat = shop.write("+6281234567001", "a question")
    unsent_old = media.store(conversation=chat, data=photo(), sender_side=Side.BUYER)
    unsent_new = media.store(conversation=chat, data=photo(), sender_side=Side.BUYER)
    MediaFile.objects.filter(pk=unsent_old.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    sent = photo_in(chat)
    # A file no row names: an upload whose transaction rolled back, a row deleted in the admin.
    stray = folder / "0123456789abcdef0123456789abcdef.bin"
    stray.write_bytes(b"sealed bytes nobody names")
    fresh_stray = folder / "fedcba9876543210fedcba9876543210.bin"
    fresh_stray.write_bytes(b"being committed right now")
    an_hour_ago = time.time() - 2 * 3600
    os.utime(stray, (an_hour_ago, an_hour_ago))

    done = purge()

    assert "Deleted 1 photos" in done and "1 stray stored files" in done
    names = {path.name for path in stored_files(folder)}
    assert names == {unsent_new.storage_name, sent.storage_name, fresh_stray.name}
    assert set(MediaFile.objects.all()) == {unsent_new, sent}


def test_delete_user_leaves_no_photo_of_that_user_and_keeps_other_peoples(
    shop: Shop, other_seller: User, folder: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """Sari sells a bike (a buyer sent a photo, she sent one back) and, from her own
    WhatsApp, sent Joko a photo about his lamp; another buyer sent Joko one too."""
    phone, _ = contacts.get_or_create_endpoint(channel="whatsapp", address=SELLER_PHONE)
    contacts.claim_endpoint(user=shop.seller, endpoint=phone)
    bike = shop.write("+6281234567001", "is it still available?")
    from_buyer = photo_in(bike)
    with django_capture_on_commit_callbacks(execute=False):
        roads.seller_reply(seller=shop.seller, conversation=bike, text="here is the frame")
    from_sari = photo_in(bike, side=Side.SELLER)
    lamp = open_shop(other_seller, django_capture_on_commit_callbacks, title="Desk lamp")
    sari_asks = photo_in(lamp.write(SELLER_PHONE, "does it look like this?"))
    other_buyer = photo_in(lamp.write("+6281234567009", "and mine?"))

    out = io.StringIO()
    call_command(
        "delete_user", username=shop.seller.username, yes=True, stdout=out, stderr=io.StringIO()
    )

    assert "deleted 3 photos" in out.getvalue()
    assert list(MediaFile.objects.all()) == [other_buyer]
    assert [path.name for path in stored_files(folder)] == [other_buyer.storage_name]
    assert media.read(other_buyer)  # Joko's other buyer's photo is theirs, not Sari's
    for file in (from_buyer, from_sari):
        assert unreadable(file)  # the bike conversation's key is shredded as well
    assert not MediaFile.objects.filter(pk=sari_asks.pk).exists()


def test_a_buyers_erasure_deletes_their_photos_and_keeps_the_sellers(
    shop: Shop, folder: Path, django_capture_on_commit_callbacks: Any
) -> None:
    chat = shop.write("+6281234567001", "the scratch is here")
    buyers = photo_in(chat)
    with django_capture_on_commit_callbacks(execute=False):
        roads.seller_reply(seller=shop.seller, conversation=chat, text="mine has none")
    sellers = photo_in(chat, side=Side.SELLER)
    buyer = Endpoint.objects.get(pk=chat.buyer_endpoint_id)

    summary = accounts.erase_endpoint_data(endpoints=[buyer])

    assert summary.photos_deleted == 1
    assert list(MediaFile.objects.all()) == [sellers]
    assert [path.name for path in stored_files(folder)] == [sellers.storage_name]
    assert media.read(sellers)  # the seller's own photo stays the seller's record
    assert not MediaFile.objects.filter(pk=buyers.pk).exists()


def test_photos_still_open_after_key_rotation_and_the_old_key_leaving_the_ring(
    shop: Shop, folder: Path, settings: Any
) -> None:
    chat = shop.write("+6281234567001", "photo question")
    stored = photo_in(chat)
    before = media.read(stored)
    file_before = (folder / stored.storage_name).read_bytes()
    old_ring = settings.RELAY_KEYRING
    new_id = "k-media-test"
    settings.RELAY_KEYRING = {**old_ring, new_id: os.urandom(32)}
    settings.RELAY_KEY_CURRENT = new_id

    call_command("rotate_keys", stdout=io.StringIO(), stderr=io.StringIO())
    settings.RELAY_KEYRING = {new_id: settings.RELAY_KEYRING[new_id]}  # the old key is gone

    chat.refresh_from_db()
    assert media.read(stored, conversation=chat) == before
    # Rotation re-wraps the conversation key; the photo's file is not rewritten.
    assert (folder / stored.storage_name).read_bytes() == file_before
