"""Which texts answer the report menu: a number 1-5 standing alone, with an optional note."""

from __future__ import annotations

import pytest

from relay.pipeline.guards import REASON_REPLY


@pytest.mark.parametrize(
    ("text", "number", "note"),
    [
        ("2", "2", ""),
        (" 3 rude", "3", "rude"),
        ("2. asked for a transfer", "2", "asked for a transfer"),
        ("5, other: fake photos", "5", "other: fake photos"),
    ],
)
def test_a_number_standing_alone_answers_the_menu(text: str, number: str, note: str) -> None:
    match = REASON_REPLY.match(text)
    assert match is not None
    assert (match.group(1), match.group(2)) == (number, note)


@pytest.mark.parametrize("text", ["3K7Q-W2XP still there?", "12 pieces", "6 spam", "2x cheaper"])
def test_a_handle_or_another_number_is_not_an_answer(text: str) -> None:
    assert REASON_REPLY.match(text) is None
