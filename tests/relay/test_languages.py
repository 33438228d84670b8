"""Each participant hears the relay in their own language, through the real worker and the
sandbox: notices, relayed headers and pseudonyms; and the web pages name people in the
page's language."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Endpoint
from relay.models import Conversation
from tests.relay.conftest import BUYER, SELLER, World

pytestmark = pytest.mark.worker


def texts(world: World, person: str, count: int) -> list[str]:
    return [record["text"] for record in world.sandbox.wait_for_outbox(person, count)]


def test_a_messenger_buyer_who_writes_bantuan_hears_the_relay_in_indonesian(
    world: World,
) -> None:
    """Messenger gives no number and no locale: the keyword is the only sign of a language."""
    world.connect_seller("whatsapp")  # Sari's Indonesian WhatsApp number
    citra = BUYER["messenger"]
    world.buyer_writes("messenger", "BANTUAN")
    [help_text] = texts(world, citra, 1)
    assert "Perantara meneruskan pesan tentang iklan tanpa membagikan nomor." in help_text
    assert "ENGLISH (pesan dalam bahasa Inggris)" in help_text

    world.buyer_writes("messenger", f"{world.handle} sepedanya masih ada?")
    sent = texts(world, citra, 2)[-1]
    assert sent.startswith("Terkirim ke penjual “Mountain bike”.")
    conversation = Conversation.objects.get()
    [to_seller] = texts(world, SELLER["whatsapp"], 1)
    assert to_seller.startswith("Pembeli baru untuk “Mountain bike”.")
    assert f"\nPembeli {conversation.tag}: {world.handle} sepedanya masih ada?" in to_seller

    world.seller_writes("whatsapp", "Masih, kak")
    reply = texts(world, citra, 3)[-1]
    assert reply == f"Penjual · Mountain bike (#{conversation.tag}):\nMasih, kak"


def test_english_switches_an_indonesian_number_to_english_and_a_keyword_does_not_undo_it(
    world: World,
) -> None:
    ana = BUYER["whatsapp"]  # +62: Indonesian from her number's region
    world.buyer_writes("whatsapp", "ENGLISH")
    assert texts(world, ana, 1) == [
        "From now on Perantara writes to you in English. Send BAHASA for Indonesian."
    ]
    world.buyer_writes("whatsapp", "BANTUAN")  # an Indonesian keyword is only a guess
    assert texts(world, ana, 2)[-1].startswith("Perantara relays messages about marketplace")

    world.buyer_writes("whatsapp", "bahasa")
    assert texts(world, ana, 3)[-1] == (
        "Mulai sekarang Perantara menulis kepada Anda dalam bahasa Indonesia. "
        "Kirim ENGLISH untuk bahasa Inggris."
    )
    endpoint = Endpoint.objects.get(channel="whatsapp", user=None)
    assert (endpoint.language, endpoint.language_source) == ("id", "chosen")


def test_the_masking_notice_names_the_placeholder_the_reader_sees(world: World) -> None:
    """Sari (Indonesian) writes a number to Dewi (a US number, English): Dewi reads
    "[hidden]", and Sari is told, in Indonesian, that the other side sees "[hidden]"."""
    world.connect_seller("whatsapp")
    world.buyer_writes("sms", f"{world.handle} is it still available?")
    texts(world, SELLER["whatsapp"], 1)
    conversation = Conversation.objects.get()
    world.seller_writes("whatsapp", f"#{conversation.tag} WA saya 0812-3456-7890 ya")
    relayed = [t for t in texts(world, BUYER["sms"], 2) if "WA saya" in t]
    assert relayed == [f"Seller · Mountain bike (#{conversation.tag}):\nWA saya [hidden] ya"]
    told = [t for t in texts(world, SELLER["whatsapp"], 2) if "Demi keamanan" in t]
    assert told == [
        "Demi keamanan kedua pihak, kami menyembunyikan nomor telepon di pesan Anda: pihak "
        "lain melihat [hidden] sebagai gantinya. Lanjutkan di sini; nomor Anda tetap rahasia."
    ]


def test_the_indonesian_inbox_and_web_chat_name_people_in_indonesian(world: World) -> None:
    world.connect_seller("web")
    buyer, chat_url = world.buyer_writes("web", "Halo, masih ada?")
    conversation = Conversation.objects.get()
    inbox = world.seller_web.get(
        reverse("relay:conversation", args=[conversation.code]),
        headers={"accept-language": "id"},
    )
    page = html.unescape(inbox.content.decode())
    assert f"Pembeli {conversation.tag}" in page
    assert f"Buyer {conversation.tag}" not in page

    world.seller_writes("web", "Masih, kak")
    assert isinstance(buyer, Client)
    chat = html.unescape(buyer.get(chat_url, headers={"accept-language": "id"}).content.decode())
    assert "Penjual · Mountain bike" in chat and "Seller · Mountain bike" not in chat
    english = html.unescape(buyer.get(chat_url, headers={"accept-language": "en"}).content.decode())
    assert "Seller · Mountain bike" in english and "Penjual · " not in english
