"""A language per participant: what a buyer writes, what a seller chooses, the region last."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from contacts import services as contacts
from contacts.models import Endpoint, LanguageSource, User
from relay.pipeline import keywords


def indonesian_number() -> Endpoint:
    endpoint, _created = contacts.get_or_create_endpoint(
        channel="whatsapp", address="+6281234567123"
    )
    return endpoint


def messenger_user() -> Endpoint:
    endpoint, _created = contacts.get_or_create_endpoint(
        channel="messenger", address="9200000000000777"
    )
    return endpoint


def test_an_indonesian_number_starts_in_indonesian_and_a_messenger_id_in_the_default(
    db: None,
) -> None:
    wa = indonesian_number()
    assert (wa.language, wa.language_source) == ("id", LanguageSource.REGION)
    fb = messenger_user()  # Messenger gives no number, so no region and no locale
    assert (fb.language, fb.language_source) == (settings.RELAY_DEFAULT_LANGUAGE, "region")


@pytest.mark.parametrize(
    ("word", "language"),
    [("BANTUAN", "id"), ("lapor", "id"), ("Berhenti!", "id"), ("HELP", "en"), ("#K7Q2 stop", "en")],
)
def test_a_keyword_is_written_in_a_language(word: str, language: str) -> None:
    assert keywords.language_of_keyword(word) == language


@pytest.mark.parametrize("text", ["bantuan dong", "masih ada?", "BAHASA", "ENGLISH", "OK"])
def test_anything_else_names_no_language(text: str) -> None:
    assert keywords.language_of_keyword(text) is None


def test_a_keyword_in_indonesian_makes_a_messenger_buyer_indonesian(db: None) -> None:
    fb = messenger_user()
    assert contacts.note_language(endpoint=fb, language="id", source=LanguageSource.KEYWORD)
    fb.refresh_from_db()
    assert (fb.language, fb.language_source) == ("id", LanguageSource.KEYWORD)
    # A later keyword in English is a newer guess of the same strength: it wins.
    assert contacts.note_language(endpoint=fb, language="en", source=LanguageSource.KEYWORD)
    fb.refresh_from_db()
    assert fb.language == "en"


def test_an_explicit_choice_is_not_overridden_by_a_keyword_or_the_region(db: None) -> None:
    wa = indonesian_number()
    assert contacts.note_language(endpoint=wa, language="en", source=LanguageSource.CHOSEN)
    assert not contacts.note_language(endpoint=wa, language="id", source=LanguageSource.KEYWORD)
    assert not contacts.note_language(endpoint=wa, language="id", source=LanguageSource.REGION)
    again = indonesian_number()  # the number writes again: found, not re-guessed from +62
    assert (again.language, again.language_source) == ("en", LanguageSource.CHOSEN)
    # BAHASA is another explicit choice: it switches back.
    assert contacts.note_language(endpoint=wa, language="id", source=LanguageSource.CHOSEN)
    assert Endpoint.objects.get(pk=wa.pk).language == "id"


def test_an_unknown_language_is_ignored(db: None) -> None:
    wa = indonesian_number()
    assert not contacts.note_language(endpoint=wa, language="fr", source=LanguageSource.CHOSEN)
    assert Endpoint.objects.get(pk=wa.pk).language == "id"


def test_a_seller_chooses_indonesian_on_the_channels_page(seller_client: Any, seller: User) -> None:
    page = seller_client.get(reverse("contacts:channels"), headers={"accept-language": "en"})
    html = page.content.decode()
    assert '<label for="id_language">Perantara writes to you in</label>' in html
    assert '<option value="id">Bahasa Indonesia</option>' in html

    sms, _created = contacts.get_or_create_endpoint(channel="sms", address="+14155550123")
    contacts.claim_endpoint(user=seller, endpoint=sms)
    assert Endpoint.objects.get(pk=sms.pk).language == "en"  # a US number

    response = seller_client.post(
        reverse("contacts:set_language"), {"language": "id"}, headers={"accept-language": "en"}
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    seller.refresh_from_db()
    assert seller.language == "id"
    assert set(seller.endpoints.values_list("language", "language_source")) == {("id", "account")}

    # The page now speaks Indonesian and says it was saved, and the select shows the choice.
    html = seller_client.get(reverse("contacts:channels")).content.decode()
    assert "Tersimpan. Mulai sekarang Perantara menulis kepada Anda dalam bahasa ini." in html
    assert '<option value="id" selected>Bahasa Indonesia</option>' in html
    assert "Perantara menulis kepada Anda dalam" in html


def test_a_channel_added_after_the_choice_follows_it(seller_client: Any, seller: User) -> None:
    seller_client.post(reverse("contacts:set_language"), {"language": "en"})
    wa = indonesian_number()
    contacts.claim_endpoint(user=seller, endpoint=wa)
    wa.refresh_from_db()
    assert (wa.language, wa.language_source) == ("en", LanguageSource.ACCOUNT)
    # A keyword the seller writes from that phone does not override their setting.
    assert not contacts.note_language(endpoint=wa, language="id", source=LanguageSource.KEYWORD)


def test_a_language_outside_the_list_is_refused(seller_client: Any, seller: User) -> None:
    response = seller_client.post(reverse("contacts:set_language"), {"language": "fr"}, follow=True)
    assert "Choose one of the languages in the list." in response.content.decode()
    seller.refresh_from_db()
    assert seller.language == "en"


def test_a_seller_who_signs_up_in_indonesian_starts_in_indonesian(client: Any, db: None) -> None:
    client.post(
        reverse("contacts:signup"),
        {
            "username": "wulan",
            "email": "wulan@example.com",
            "display_name": "Wulan",
            "password1": "pw-wulan-98765",
            "password2": "pw-wulan-98765",
        },
        headers={"accept-language": "id"},
    )
    assert User.objects.get(username="wulan").language == "id"
