"""Phone numbers as people type them, normalized to E.164."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _


class InvalidPhoneNumber(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_phone(raw: str, *, region: str | None = None, strict: bool = True) -> str:
    """Return the E.164 form of what a person typed, or raise InvalidPhoneNumber.

    Accepts `0812-3456-7890` (national, read in `region`, default PHONE_DEFAULT_REGION),
    `+62 812 3456 7890` and `(415) 555-0100` with region US. `strict=False` accepts any
    possible number (the relay's own test and sandbox numbers, such as +1 555 ...).
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber(_("Enter a phone number."))
    if len(text) > 40:
        raise InvalidPhoneNumber(_("That is too long to be a phone number."))
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(
            _(
                "That doesn't look like a phone number. "
                "Include the country code, e.g. +62 812 3456 7890."
            )
        ) from None
    valid = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not valid(number):
        raise InvalidPhoneNumber(
            _("That number isn't valid for its country. Check the digits and the country code.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# WhatsApp's business-scoped user id: a two-letter country code, a dot, then up to 128 letters
# and digits (a parent BSUID has ENT. after the country): "US.13491208655302741918". Meta sends
# it as user_id / from_user_id and may withhold the number of a user with a username.
BSUID = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$")


def is_bsuid(address: str) -> bool:
    return BSUID.match((address or "").strip()) is not None


def bsuid_region(bsuid: str) -> str:
    """The country a BSUID names, when it is one phonenumbers knows ("ID", "US"), else ""."""
    country = bsuid[:2]
    return country if country in phonenumbers.SUPPORTED_REGIONS else ""


def region_of(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
    except phonenumbers.NumberParseException:
        return ""


def last_digits(e164: str, count: int = 3) -> str:
    """The last `count` digits of a number (`"…001"` on a page): all a seller needs to see that
    a code went to the right phone. Short inputs give fewer digits, never the whole number."""
    digits = "".join(character for character in e164 if character.isdigit())
    return digits[-count:] if len(digits) > count * 2 else ""


def masked(e164: str) -> str:
    """`+62 812-****-7001`: enough for an owner to recognise their own number."""
    if len(e164) < 6:
        return "•" * len(e164)
    return f"{e164[:4]}•••••{e164[-3:]}"
