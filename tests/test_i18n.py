"""The site speaks English and Indonesian: pages, form errors, the switcher and the catalogue."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from contacts.models import User
from marketplace.services import create_listing

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[^{}]*\}")


def page(client: Any, url: str, language: str) -> str:
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200
    return str(response.content.decode())


ANONYMOUS_PAGES = {
    "home": (
        "marketplace:home",
        ["Jualan tanpa membagikan nomor Anda.", "Mulai jualan", "Masuk", "Daftar"],
        ["Sell without sharing your number.", "Start selling", "Log in", "Sign up"],
    ),
    "login": (
        "contacts:login",
        ["Lupa kata sandi?", "Buat akun", "Nama pengguna"],
        ["Forgot your password?", "Create an account", "Username"],
    ),
    "signup": (
        "contacts:signup",
        ["Buat akun penjual Anda", "Sudah punya akun?", "Nama Anda (hanya Anda yang bisa melihat)"],
        ["Create your seller account", "Already have an account?", "Your name (only you see it)"],
    ),
}


@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_an_indonesian_browser_gets_the_public_pages_in_indonesian(
    client: Any, db: None, name: str
) -> None:
    url_name, indonesian, english = ANONYMOUS_PAGES[name]
    html = page(client, reverse(url_name), "id")
    assert '<html lang="id">' in html
    for phrase in indonesian:
        assert phrase in html
    for phrase in english:
        assert phrase not in html


@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_an_english_browser_gets_the_public_pages_in_english(
    client: Any, db: None, name: str
) -> None:
    url_name, indonesian, english = ANONYMOUS_PAGES[name]
    html = page(client, reverse(url_name), "en")
    assert '<html lang="en">' in html
    for phrase in english:
        assert phrase in html
    for phrase in indonesian:
        if phrase not in ("Masuk", "Daftar"):  # short words that may appear inside English
            assert phrase not in html


def test_a_seller_sees_the_dashboard_in_indonesian(seller_client: Any, seller: User) -> None:
    create_listing(seller=seller, title="Sepeda", price=Decimal(1))
    html = page(seller_client, reverse("marketplace:dashboard"), "id")
    assert '<html lang="id">' in html
    assert "Sepeda" in html
    for phrase in ("Iklan Anda", "Pasang iklan", "Kotak masuk", "Saluran", "Keluar"):
        assert phrase in html
    for phrase in ("Aktif", "Kode", "Ubah", "Halaman publik"):
        assert phrase in html
    assert "Your listings" not in html and "Inbox" not in html


def test_a_seller_sees_the_dashboard_in_english(seller_client: Any, seller: User) -> None:
    create_listing(seller=seller, title="Sepeda", price=Decimal(1))
    html = page(seller_client, reverse("marketplace:dashboard"), "en")
    assert '<html lang="en">' in html
    for phrase in ("Your listings", "New listing", "Inbox", "Channels", "Log out", "Public page"):
        assert phrase in html
    assert "Iklan Anda" not in html and "Kotak masuk" not in html


def test_the_language_switcher_sets_the_language_cookie(client: Any, db: None) -> None:
    response = client.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    # The cookie wins over an English browser from now on.
    html = page(client, "/", "en")
    assert '<html lang="id">' in html and "Mulai jualan" in html

    back = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert back.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Start selling" in page(client, "/", "id")


def test_a_form_error_is_shown_in_indonesian(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("contacts:add_phone"),
        {"channel": "whatsapp", "region": "ID", "number": "bukan nomor"},
        headers={"accept-language": "id"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sepertinya itu bukan nomor HP." in html
    assert "Tambah nomor HP" in html
    assert "look like a phone number" not in html


def test_a_missing_field_uses_djangos_own_indonesian_message(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("contacts:add_phone"),
        {"channel": "whatsapp", "region": "ID", "number": ""},
        headers={"accept-language": "id"},
    )
    assert "Bidang ini harus diisi." in response.content.decode()


def test_a_form_error_is_shown_in_english_to_an_english_browser(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("contacts:add_phone"),
        {"channel": "whatsapp", "region": "ID", "number": "not a number"},
        headers={"accept-language": "en"},
    )
    assert "look like a phone number" in response.content.decode()


# --- the catalogue itself ---------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgstr: str = ""  # msgstr[0] for a plural entry (Indonesian has one form: nplurals=1)
    msgid_plural: str = ""
    flags: set[str] = field(default_factory=set)
    line: int = 0
    obsolete: bool = False


def parse_po(path: Path) -> list[Entry]:
    """Just enough of the PO format for msgid/msgstr pairs, flags and obsolete entries."""
    parser = _PoParser()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line:
            parser.read(number, line)
    parser.finish_entry()
    return parser.entries


class _PoParser:
    """Reads a PO file one stripped, non-empty line at a time into `entries`."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.current = Entry()
        self.target = ""  # the field a continued "..." line adds to

    def finish_entry(self) -> None:
        if self.current.line:
            self.entries.append(self.current)
            self.current = Entry()

    def read(self, number: int, line: str) -> None:
        if line.startswith("#~"):
            self.entries.append(Entry(msgid=line, line=number, obsolete=True))
        elif line.startswith("#"):
            # A comment starts the next entry; a "#," comment carries that entry's flags.
            self.finish_entry()
            if line.startswith("#,"):
                self.current.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("msgctxt"):
            raise AssertionError(f"line {number}: extend the parser for {line.split()[0]}")
        elif line.startswith("msg"):
            self.read_keyword(number, line)
        elif line.startswith('"'):
            field = self.target
            setattr(self.current, field, getattr(self.current, field) + ast.literal_eval(line))

    def read_keyword(self, number: int, line: str) -> None:
        """`msgid`, `msgid_plural`, `msgstr` or `msgstr[0]` (Indonesian: nplurals=1)."""
        keyword, _space, value = line.partition(" ")
        fields = {"msgid": "msgid", "msgid_plural": "msgid_plural"}
        fields |= {"msgstr": "msgstr", "msgstr[0]": "msgstr"}
        if keyword not in fields:
            raise AssertionError(f"line {number}: Indonesian has one plural form: {keyword}")
        if keyword == "msgid":
            self.finish_entry()
            self.current.line = number
        self.target = fields[keyword]
        setattr(self.current, self.target, ast.literal_eval(value))


def translations() -> list[Entry]:
    return [entry for entry in parse_po(CATALOGUE / "django.po") if entry.msgid]


def test_the_indonesian_catalogue_has_every_string_translated_and_none_fuzzy() -> None:
    entries = parse_po(CATALOGUE / "django.po")
    assert len(translations()) > 100
    problems = [
        f"line {entry.line}: {entry.msgid!r}"
        for entry in entries
        if "fuzzy" in entry.flags or entry.obsolete or (entry.msgid and not entry.msgstr.strip())
    ]
    assert not problems, "untranslated, fuzzy or obsolete:\n" + "\n".join(problems)


def test_every_translation_keeps_the_placeholders_of_its_english_original() -> None:
    mismatched = [
        f"{entry.msgid!r} -> {entry.msgstr!r}"
        for entry in translations()
        if sorted(PLACEHOLDER.findall(entry.msgid)) != sorted(PLACEHOLDER.findall(entry.msgstr))
    ]
    assert not mismatched, "\n".join(mismatched)


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    """The .mo is committed for machines without gettext: it must not lag behind the .po."""
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        entry.msgid
        for entry in translations()
        if (
            compiled.ngettext(entry.msgid, entry.msgid_plural, 2)
            if entry.msgid_plural
            else compiled.gettext(entry.msgid)
        )
        != entry.msgstr
    ]
    assert not stale, "recompile with `manage.py compilemessages`:\n" + "\n".join(stale)
