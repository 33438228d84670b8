"""Relay handles: short, typable, unambiguous, unique, case-insensitive; paused and rotated."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from contacts.models import User
from marketplace import handles, services
from marketplace.models import RelayHandle


def test_a_handle_is_eight_crockford_characters_shown_in_two_groups() -> None:
    for _ in range(200):
        code = handles.generate_code()
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", code)
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", handles.display(code))
    # 32 symbols x 8 positions = 40 bits of randomness.
    assert len(handles.ALPHABET) ** handles.LENGTH == 2**40


def test_typed_handles_are_read_case_insensitively_and_forgivingly() -> None:
    assert handles.normalize("k7q2-mx9d") == "K7Q2MX9D"
    assert handles.normalize("K7Q2 MX9D") == "K7Q2MX9D"
    assert handles.normalize("k7q2mx9d") == "K7Q2MX9D"
    assert handles.normalize("K7QO-MXID") == "K7Q0MX1D"  # O reads as 0, I as 1
    assert handles.normalize("K7Q2-MX9U") is None  # U is not in the alphabet
    assert handles.normalize("K7Q2-MX9") is None


def test_handles_are_found_inside_a_first_message() -> None:
    found = handles.find_candidates("K7Q2-MX9D is it still available?")
    assert found[0].code == "K7Q2MX9D" and found[0].deliberate
    assert [c.code for c in handles.find_candidates("hello, is this still there")] == []


@pytest.mark.django_db
def test_lookup_finds_the_listing_whatever_the_case(seller: User) -> None:
    listing = services.create_listing(seller=seller, title="Bike", price=Decimal(1))
    handle = handles.live_handle(listing)
    assert handle is not None
    found = handles.lookup_handle(handle.display.lower())
    assert found is not None and found.listing == listing


@pytest.mark.django_db
def test_every_listing_gets_a_distinct_handle(seller: User) -> None:
    codes = {
        handles.live_handle(
            services.create_listing(seller=seller, title=f"Item {i}", price=Decimal(1))
        ).code  # type: ignore[union-attr]
        for i in range(50)
    }
    assert len(codes) == 50


@pytest.mark.django_db
def test_rotating_retires_the_old_handle_and_issues_a_new_one(seller: User) -> None:
    listing = services.create_listing(seller=seller, title="Bike", price=Decimal(1))
    old = handles.live_handle(listing)
    new = services.rotate_listing_handle(listing=listing)
    assert old is not None and new.code != old.code
    old.refresh_from_db()
    assert old.status == RelayHandle.Status.RETIRED and old.retired_at is not None
    assert handles.live_handle(listing) == new


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("C215-DAKM masih ada?", "C215DAKM"),
        ("C215 DAKM masih ada?", "C215DAKM"),
        ("kode c215.dakm ya", "C215DAKM"),
        ("C215DAKM", "C215DAKM"),
        ("K7Q2 MXOD", "K7Q2MX0D"),  # a letter O read as zero
    ],
)
def test_a_handle_is_read_with_a_dash_a_space_a_dot_or_nothing(typed: str, found: str) -> None:
    assert found in [c.code for c in handles.find_candidates(typed)]


@pytest.mark.parametrize("typed", ["some text here", "see you next.week", "Mountain bike"])
def test_two_ordinary_words_are_not_a_handle(typed: str) -> None:
    assert handles.find_candidates(typed) == []


def test_two_upper_case_words_may_be_a_handle_but_are_never_called_an_unknown_one() -> None:
    [candidate] = handles.find_candidates("HALO BANG")
    assert not candidate.deliberate
