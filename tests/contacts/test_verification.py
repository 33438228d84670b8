"""Phone verification: 6-digit codes, 10 minutes, 5 tries, resend throttle, hashed at rest."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from contacts import services
from contacts.models import User, VerificationCode


def start(user: User, number: str = "0812-3456-7890") -> tuple[Any, str]:
    return services.start_phone_verification(user=user, channel="whatsapp", raw_number=number)


def test_the_right_code_verifies_the_number_and_makes_it_preferred(seller: User) -> None:
    endpoint, code = start(seller)
    services.confirm_phone_verification(user=seller, endpoint=endpoint, code=code)
    endpoint.refresh_from_db()
    assert endpoint.user == seller
    assert endpoint.verified
    assert endpoint.preferred
    assert not seller.endpoints.filter(channel="web", preferred=True).exists()


def test_codes_are_stored_hashed_never_as_digits(seller: User) -> None:
    _endpoint, code = start(seller)
    stored = VerificationCode.objects.get()
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_a_code_expires_after_ten_minutes(seller: User) -> None:
    endpoint, code = start(seller)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10, seconds=1)):
        with pytest.raises(services.VerificationError, match="expired"):
            services.confirm_phone_verification(user=seller, endpoint=endpoint, code=code)


def test_five_wrong_codes_lock_the_code_even_against_the_right_one(seller: User) -> None:
    endpoint, code = start(seller)
    wrong = "000000" if code != "000000" else "111111"
    for tries_left in (4, 3, 2, 1):
        with pytest.raises(services.VerificationError, match=f"{tries_left} tries left"):
            services.confirm_phone_verification(user=seller, endpoint=endpoint, code=wrong)
    with pytest.raises(services.VerificationError, match="Too many wrong codes"):
        services.confirm_phone_verification(user=seller, endpoint=endpoint, code=wrong)
    with pytest.raises(services.VerificationError, match="Too many wrong codes"):
        services.confirm_phone_verification(user=seller, endpoint=endpoint, code=code)
    endpoint.refresh_from_db()
    assert not endpoint.verified


def test_a_new_code_is_refused_within_the_resend_wait_and_allowed_after(seller: User) -> None:
    start(seller)
    with pytest.raises(services.VerificationError, match="You can ask for a new one in"):
        start(seller)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        _endpoint, code = start(seller)
        assert re.fullmatch(r"\d{6}", code)


def test_a_resent_code_replaces_the_old_one(seller: User) -> None:
    endpoint, old = start(seller)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        _endpoint, new = start(seller)
        if old != new:
            with pytest.raises(services.VerificationError):
                services.confirm_phone_verification(user=seller, endpoint=endpoint, code=old)
        services.confirm_phone_verification(user=seller, endpoint=endpoint, code=new)


def test_a_number_verified_by_one_seller_cannot_be_claimed_by_another(
    seller: User, other_seller: User
) -> None:
    endpoint, code = start(seller)
    services.confirm_phone_verification(user=seller, endpoint=endpoint, code=code)
    with pytest.raises(services.VerificationError, match="already connected"):
        start(other_seller, "+62 812 3456 7890")


def test_the_add_phone_page_rejects_an_invalid_number_with_a_message(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("contacts:add_phone"), {"channel": "sms", "region": "ID", "number": "12"}
    )
    assert response.status_code == 200
    assert "isn&#x27;t valid for its country" in response.content.decode()


def test_verifying_through_the_pages_connects_the_number(
    seller_client: Any, seller: User, settings: Any
) -> None:
    settings.VERIFICATION_SHOW_CODE = True
    response = seller_client.post(
        reverse("contacts:add_phone"),
        {"channel": "whatsapp", "region": "US", "number": "(415) 555-0100"},
        follow=True,
    )
    page = response.content.decode()
    code = re.search(r"your code is (\d{6})", page)
    assert code is not None
    verify_url = response.redirect_chain[-1][0]
    wrong = seller_client.post(verify_url, {"code": "12345"})
    assert "Enter the 6 digits" in wrong.content.decode()
    done = seller_client.post(verify_url, {"code": code.group(1)}, follow=True)
    assert "Number verified." in done.content.decode()
    assert "+141•••••100" in done.content.decode()
    assert "4155550100" not in done.content.decode()


def test_another_users_channel_page_is_a_404(seller: User, other_seller: User, client: Any) -> None:
    endpoint, _code = start(seller)
    client.force_login(other_seller)
    assert client.get(reverse("contacts:verify", args=[endpoint.code])).status_code == 404
    response = client.post(reverse("contacts:endpoint_action", args=[endpoint.code, "prefer"]))
    assert response.status_code == 404
