"""Photos on the web roads: the buyer's web chat and the seller's web inbox upload, send and
show photos, cleaned by the relay; only the two participants can open them."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.models import Conversation, MediaFile, Message, Side
from relay.services import media
from tests.photo_samples import SVG, jpeg_with_gps, metadata_of

pytestmark = pytest.mark.django_db


@dataclass
class Chat:
    buyer: Client
    link: str  # the buyer's chat address, /chat/<token>/
    conversation: Conversation
    seller: Client

    @property
    def buyer_upload(self) -> str:
        return self.link + "photos/"

    @property
    def seller_page(self) -> str:
        return reverse("relay:conversation", args=[self.conversation.code])

    @property
    def seller_upload(self) -> str:
        return self.seller_page + "photos/"


def open_chat(listing: Listing, seller_client: Client, text: str = "Is it available?") -> Chat:
    buyer = Client()
    start = reverse("relay:buyer_chat_start", args=[listing.code])
    answer = buyer.post(start, {"text": text}, follow=True)
    link = answer.redirect_chain[-1][0]
    conversation = Conversation.objects.get(listing=listing, buyer_endpoint__channel="web")
    return Chat(buyer, link, conversation, seller_client)


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Sepeda lipat", price=Decimal(900000))


@pytest.fixture
def chat(listing: Listing, seller_client: Client) -> Chat:
    return open_chat(listing, seller_client)


def photo_file(
    data: bytes | None = None, name: str = "IMG_2041.jpg", kind: str = "image/jpeg"
) -> Any:
    return SimpleUploadedFile(name, jpeg_with_gps() if data is None else data, content_type=kind)


def page(response: Any) -> str:
    return html.unescape(response.content.decode())


def stored_files() -> int:
    return MediaFile.objects.count()


def test_a_buyer_uploads_a_photo_and_gets_its_thumbnail(chat: Chat) -> None:
    answer = chat.buyer.post(chat.buyer_upload, {"photo": photo_file()})
    assert answer.status_code == 200
    uid = answer.json()["uid"]
    assert answer.json()["thumbnail"] == f"{chat.link}photos/{uid}/thumb/"
    thumbnail = chat.buyer.get(answer.json()["thumbnail"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert "no-store" in thumbnail["Cache-Control"] and "private" in thumbnail["Cache-Control"]
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    assert thumbnail["Content-Disposition"].startswith('inline; filename="photo-')
    assert "IMG_2041" not in thumbnail["Content-Disposition"]  # the sender's name stays sealed
    assert metadata_of(thumbnail.content) == {
        "exif": {},
        "gps": {},
        "info": {},
        "camera_named": False,
    }
    # The storage holds ciphertext: not a JPEG, no camera name in it.
    row = MediaFile.objects.get(uid=uid)
    with media.storage().open(row.storage_name, "rb") as handle:
        sealed = handle.read()
    assert not sealed.startswith(b"\xff\xd8") and b"Pocket" not in sealed


def test_a_photo_with_no_caption_reaches_the_seller_cleaned(chat: Chat) -> None:
    uid = chat.buyer.post(chat.buyer_upload, {"photo": photo_file()}).json()["uid"]
    sent = chat.buyer.post(chat.link, {"text": "", "media": [uid]}, follow=True)
    assert "Write something" not in page(sent)  # no "empty message" refusal
    message = Message.objects.filter(conversation=chat.conversation).order_by("-id").first()
    assert message is not None and message.sender_side == Side.BUYER
    assert list(message.media_files.values_list("uid", flat=True)) == [uuid.UUID(uid)]
    inbox = page(chat.seller.get(chat.seller_page))
    assert f"{chat.seller_page}photos/{uid}/thumb/" in inbox
    full = chat.seller.get(f"{chat.seller_page}photos/{uid}/")
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    assert metadata_of(full.content)["gps"] == {} and not metadata_of(full.content)["camera_named"]
    # The buyer sees it in their own bubble too.
    assert f"{chat.link}photos/{uid}/thumb/" in page(chat.buyer.get(chat.link))


def test_the_seller_replies_with_a_photo_and_a_caption(chat: Chat) -> None:
    uid = chat.seller.post(chat.seller_upload, {"photo": photo_file()}).json()["uid"]
    chat.seller.post(chat.seller_page, {"text": "Here is the scratch", "media": [uid]})
    row = MediaFile.objects.get(uid=uid)
    assert row.message is not None and row.message.sender_side == Side.SELLER
    chat_page = page(chat.buyer.get(chat.link))
    assert "Here is the scratch" in chat_page
    assert f"{chat.link}photos/{uid}/thumb/" in chat_page
    assert chat.buyer.get(f"{chat.link}photos/{uid}/").status_code == 200


def test_without_javascript_the_form_posts_the_photo_itself(chat: Chat) -> None:
    chat.buyer.post(chat.link, {"text": "The box", "photo": photo_file()})
    row = MediaFile.objects.get()
    assert row.message is not None and row.sender_side == Side.BUYER
    assert media.file_name(row) == "IMG_2041.jpg"


@pytest.mark.parametrize(
    ("upload", "said"),
    [
        (photo_file(b"%PDF-1.4 not a photo", "scan.jpg"), "not a photo the relay can carry"),
        (photo_file(SVG, "logo.svg", "image/svg+xml"), "Only JPEG, PNG and WebP"),
        (photo_file(jpeg_with_gps()[:600], "cut.jpg"), "damaged or incomplete"),
        (photo_file(b"", "empty.jpg"), "empty"),
    ],
)
def test_an_upload_that_is_not_a_photo_is_refused_in_words(
    chat: Chat, upload: Any, said: str
) -> None:
    answer = chat.buyer.post(chat.buyer_upload, {"photo": upload})
    assert answer.status_code == 400
    assert said in answer.json()["error"]
    assert stored_files() == 0


def test_an_oversize_upload_is_refused_and_nothing_is_kept(chat: Chat, monkeypatch: Any) -> None:
    monkeypatch.setattr("marketplace.uploads.MAX_BYTES", 4000)
    answer = chat.seller.post(chat.seller_upload, {"photo": photo_file(jpeg_with_gps(1200, 900))})
    assert answer.status_code == 400
    assert "too large" in answer.json()["error"]
    assert stored_files() == 0


def test_an_upload_in_indonesian_is_refused_in_indonesian(chat: Chat) -> None:
    answer = chat.buyer.post(
        chat.buyer_upload, {"photo": photo_file(SVG, "logo.svg")}, HTTP_ACCEPT_LANGUAGE="id"
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "Hanya foto JPEG, PNG, dan WebP yang bisa dikirim."


def test_an_upload_with_no_file_says_to_choose_one(chat: Chat) -> None:
    answer = chat.buyer.post(chat.buyer_upload, {})
    assert answer.status_code == 400 and "Choose a photo" in answer.json()["error"]


def test_a_forged_uid_sends_nothing_and_says_why(chat: Chat) -> None:
    seller_uid = chat.seller.post(chat.seller_upload, {"photo": photo_file()}).json()["uid"]
    before = Message.objects.count()
    for forged in (seller_uid, str(uuid.uuid4()), "not-a-uid"):
        said = page(chat.buyer.post(chat.link, {"text": "look", "media": [forged]}, follow=True))
        assert "no longer waiting to be sent" in said
    assert Message.objects.count() == before
    assert MediaFile.objects.get(uid=seller_uid).message is None  # not borrowed


def test_a_sent_photo_cannot_be_sent_again(chat: Chat) -> None:
    uid = chat.buyer.post(chat.buyer_upload, {"photo": photo_file()}).json()["uid"]
    chat.buyer.post(chat.link, {"text": "once", "media": [uid]})
    said = page(chat.buyer.post(chat.link, {"text": "twice", "media": [uid]}, follow=True))
    assert "no longer waiting to be sent" in said
    assert MediaFile.objects.get(uid=uid).message.media_files.count() == 1  # type: ignore[union-attr]


def test_at_most_four_photos_go_with_one_message(chat: Chat) -> None:
    uids = [
        chat.buyer.post(chat.buyer_upload, {"photo": photo_file()}).json()["uid"] for _ in range(5)
    ]
    said = page(chat.buyer.post(chat.link, {"text": "all", "media": uids}, follow=True))
    assert "At most 4 photos" in said
    assert MediaFile.objects.filter(message__isnull=False).count() == 0


def test_another_sellers_conversation_takes_no_upload(chat: Chat, other_seller: User) -> None:
    intruder = Client()
    intruder.force_login(other_seller)
    answer = intruder.post(chat.seller_upload, {"photo": photo_file()})
    assert answer.status_code == 404
    assert stored_files() == 0


def test_a_signed_out_upload_is_told_to_log_in(chat: Chat) -> None:
    answer = Client().post(chat.seller_upload, {"photo": photo_file()})
    assert answer.status_code == 401 and answer.json()["error"] == "logged_out"
    assert stored_files() == 0


def test_photos_open_only_for_the_two_participants(
    chat: Chat, listing: Listing, other_seller: User, seller_client: Client
) -> None:
    uid = chat.buyer.post(chat.buyer_upload, {"photo": photo_file()}).json()["uid"]
    chat.buyer.post(chat.link, {"text": "", "media": [uid]})
    seller_url = f"{chat.seller_page}photos/{uid}/"
    assert chat.seller.get(seller_url).status_code == 200
    assert chat.buyer.get(f"{chat.link}photos/{uid}/thumb/").status_code == 200
    # Another seller, signed in: 404, not a redirect, not the photo.
    intruder = Client()
    intruder.force_login(other_seller)
    assert intruder.get(seller_url).status_code == 404
    assert intruder.get(seller_url + "thumb/").status_code == 404
    # A signed-out visitor: 404 as well (no login page saying a photo is there).
    assert Client().get(seller_url).status_code == 404
    # Another buyer's chat link opens their own chat only.
    other = open_chat(
        marketplace.create_listing(seller=other_seller, title="Kursi kayu", price=Decimal(5)),
        intruder,
    )
    assert other.buyer.get(f"{other.link}photos/{uid}/").status_code == 404
    # A made-up chat link.
    assert Client().get(f"/chat/forged-token/photos/{uid}/").status_code == 404


def test_an_unsent_upload_is_seen_only_by_who_uploaded_it(chat: Chat) -> None:
    uid = chat.buyer.post(chat.buyer_upload, {"photo": photo_file()}).json()["uid"]
    assert chat.buyer.get(f"{chat.link}photos/{uid}/thumb/").status_code == 200
    assert chat.seller.get(f"{chat.seller_page}photos/{uid}/").status_code == 404


def test_a_shredded_conversations_photo_is_gone(chat: Chat) -> None:
    uid = chat.buyer.post(chat.buyer_upload, {"photo": photo_file()}).json()["uid"]
    chat.buyer.post(chat.link, {"text": "", "media": [uid]})
    Conversation.objects.filter(pk=chat.conversation.pk).update(wrapped_key=b"shredded")
    assert chat.seller.get(f"{chat.seller_page}photos/{uid}/").status_code == 404


def test_the_composer_says_what_the_relay_does_with_photos(chat: Chat) -> None:
    shown = page(chat.buyer.get(chat.link))
    assert "remove their location and camera details" in shown
    assert "does not read text inside photos" in shown
    assert 'accept="image/jpeg,image/png,image/webp"' in shown
    assert 'enctype="multipart/form-data"' in shown


def test_a_photo_without_a_caption_shows_as_photo_in_the_thread_list(chat: Chat) -> None:
    uid = chat.buyer.post(chat.buyer_upload, {"photo": photo_file()}).json()["uid"]
    chat.buyer.post(chat.link, {"text": "", "media": [uid]})
    threads = page(chat.seller.get(reverse("relay:inbox")))
    preview = threads.split('data-testid="preview">', 1)[1].split("</span>", 1)[0]
    assert preview == "Photo"
