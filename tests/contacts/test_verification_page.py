"""The verification page says where the code went, showing only the tail of the number."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts import services
from contacts.models import User
from contacts.phones import last_digits


@pytest.mark.parametrize(
    ("channel", "language", "sentence"),
    [
        ("whatsapp", "en", "We sent a 6-digit code by WhatsApp to your number ending in …890."),
        ("sms", "en", "We sent a 6-digit code by SMS to your number ending in …890."),
        (
            "whatsapp",
            "id",
            "Kami telah mengirim kode 6 digit lewat WhatsApp ke nomor Anda yang berakhiran …890.",
        ),
    ],
)
def test_the_verification_page_names_the_channel_and_the_end_of_the_number(
    seller_client: Any, seller: User, channel: str, language: str, sentence: str
) -> None:
    endpoint, _code = services.start_phone_verification(
        user=seller, channel=channel, raw_number="0812-3456-7890"
    )
    html = seller_client.get(
        reverse("contacts:verify", args=[endpoint.code]), headers={"accept-language": language}
    ).content.decode()
    assert sentence in html
    for whole_or_middle in ("6281234567890", "812-3456", "3456", "+62 812"):
        assert whole_or_middle not in html


def test_adding_a_number_leads_to_the_page_that_says_where_the_code_went(
    seller_client: Any,
) -> None:
    response = seller_client.post(
        reverse("contacts:add_phone"),
        {"channel": "whatsapp", "region": "ID", "number": "0812 3456 7001"},
        follow=True,
    )
    assert "by WhatsApp to your number ending in …001." in response.content.decode()


def test_last_digits_never_gives_away_a_short_number() -> None:
    assert last_digits("+6281234567890") == "890"
    assert last_digits("+62 812-3456-7890", 4) == "7890"
    assert last_digits("+1234") == ""
