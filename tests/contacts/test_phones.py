from __future__ import annotations

import pytest

from contacts.phones import InvalidPhoneNumber, normalize_phone


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("0812-3456-7890", None, "+6281234567890"),
        ("+62 812 3456 7890", None, "+6281234567890"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("+1 415 555 0100", "ID", "+14155550100"),
        ("  081234567890 ", "ID", "+6281234567890"),
    ],
)
def test_numbers_are_accepted_as_people_type_them(
    typed: str, region: str | None, expected: str
) -> None:
    assert normalize_phone(typed, region=region) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a phone number."),
        ("hello", "doesn't look like a phone number"),
        ("0812", "isn't valid for its country"),
        ("+1 555 000", "isn't valid for its country"),
        ("1" * 50, "too long"),
    ],
)
def test_invalid_numbers_are_rejected_with_a_clear_message(typed: str, message: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as error:
        normalize_phone(typed, region="ID")
    assert message in error.value.message
