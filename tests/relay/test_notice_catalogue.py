"""Channel notices live in the gettext catalogue like every other string: each one has its
Indonesian, keeps its parameters, and renders in the language asked for."""

from __future__ import annotations

import string

import pytest

from relay import pseudonyms
from relay.notices import NOTICES, PROBLEMS, render_notice

SAMPLE = {
    "tags": "K7Q2",
    "handle": "K7Q2-MX9D",
    "title": "Sepeda",
    "reason": "x",
    "code": "123456",
    "url": "https://example.test/data/",
    "limit": "4000",
    "until": "2026-12-04 10:00 UTC",
    "kinds": "phone,email",
    "placeholder": "[hidden]",
    "app": "WhatsApp",
    "problem": "too_large",
}


def fields(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("code", sorted(NOTICES))
def test_every_notice_has_its_own_indonesian_with_the_same_parameters(code: str) -> None:
    english = render_notice(code, "en", SAMPLE)
    indonesian = render_notice(code, "id", SAMPLE)
    assert indonesian != english, f"{code} has no Indonesian in locale/id"
    for name in fields(str(NOTICES[code])):
        if name not in ("kinds", "problem"):  # codes, named in the reader's language
            assert SAMPLE[name] in indonesian, (code, name)


def test_what_was_hidden_is_named_in_the_readers_language() -> None:
    assert "a phone number and an e-mail address" in render_notice("contact_masked", "en", SAMPLE)
    assert "nomor telepon dan alamat e-mail" in render_notice("contact_masked", "id", SAMPLE)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_why_a_photo_was_not_forwarded_is_said_in_the_readers_language(problem: str) -> None:
    english = render_notice("photo_not_forwarded", "en", {"problem": problem})
    indonesian = render_notice("photo_not_forwarded", "id", {"problem": problem})
    assert str(PROBLEMS[problem]) in english
    assert indonesian.startswith("Foto Anda tidak diteruskan: ") and problem not in indonesian
    assert indonesian != english


def test_an_unknown_language_falls_back_to_english() -> None:
    assert render_notice("banned", "fr", {}) == render_notice("banned", "en", {})


def test_pseudonyms_are_in_the_language_asked_for() -> None:
    assert pseudonyms.buyer_name("K7Q2", "id") == "Pembeli K7Q2"
    assert pseudonyms.buyer_name("K7Q2", "en") == "Buyer K7Q2"
    assert pseudonyms.seller_name("Sepeda", "id") == "Penjual · Sepeda"
    assert pseudonyms.relay_name("id") == "relay (otomatis)"
    assert pseudonyms.relay_name("en") == "the relay (automatic)"
    assert pseudonyms.visitor_name("id") == "pengunjung halaman iklan"
