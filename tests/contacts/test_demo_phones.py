"""In the demo, a seller who signs up finds simulated phones of their own on the phones page."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from contacts import services
from contacts.models import User
from sandbox.client import SandboxClient

PASSWORD = "correct-horse-battery"


def sign_up(client: Any, username: str, display_name: str) -> str:
    response = client.post(
        reverse("contacts:signup"),
        {
            "username": username,
            "email": f"{username}@example.com",
            "display_name": display_name,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.fixture
def demo(settings: Any, sandbox: Any) -> SandboxClient:
    """Demo mode (as `make run` has it) against this session's sandbox."""
    settings.DEMO_SELLER_PHONES = True
    settings.PLATFORM_SANDBOX_URL = sandbox.url
    return SandboxClient(sandbox.url)


def test_signing_up_in_the_demo_gives_the_seller_a_whatsapp_and_an_instagram_of_their_own(
    client: Any, db: None, demo: SandboxClient
) -> None:
    page = sign_up(client, "wulan.sari", "Wulan Sari")

    phones = [p for p in demo.state()["people"] if p["name"] == "Wulan Sari · wulan.sari (seller)"]
    assert sorted(p["channel"] for p in phones) == ["instagram", "whatsapp"]
    whatsapp = next(p for p in phones if p["channel"] == "whatsapp")
    assert whatsapp["display_address"].startswith("+62 813-")
    # The page says where they are and under which name.
    assert "simulated WhatsApp number and Instagram account" in page
    assert f"{demo.base_url}/" in page and "“Wulan Sari · wulan.sari (seller)”" in page
    # And they are the seller's: the relay delivers to the WhatsApp phone, the one preferred.
    seller = User.objects.get(username="wulan.sari")
    for phone in phones:
        endpoint = services.find_endpoint(channel=phone["channel"], address=phone["address"])
        assert endpoint is not None and endpoint.user == seller and endpoint.verified
        assert endpoint.preferred == (phone["channel"] == "whatsapp")


def test_two_sellers_get_different_phones(client: Any, db: None, demo: SandboxClient) -> None:
    sign_up(client, "joko", "Joko")
    client.logout()
    sign_up(client, "rina", "Rina")

    people = demo.state()["people"]
    joko = {p["address"] for p in people if p["name"] == "Joko · joko (seller)"}
    rina = {p["address"] for p in people if p["name"] == "Rina · rina (seller)"}
    assert len(joko) == 2 and len(rina) == 2 and not joko & rina


def test_when_the_sandbox_does_not_answer_the_account_is_made_and_the_page_says_so(
    client: Any, db: None, settings: Any
) -> None:
    settings.DEMO_SELLER_PHONES = True
    settings.PLATFORM_SANDBOX_URL = "http://127.0.0.1:9"  # nothing listens there

    page = sign_up(client, "tono", "Tono")

    assert "Welcome to Perantara" in page
    assert "your simulated phones could not be created" in page
    assert [e.channel for e in User.objects.get(username="tono").endpoints.all()] == ["web"]


def test_outside_the_demo_signing_up_creates_no_phones(client: Any, db: None) -> None:
    page = sign_up(client, "ulfa", "Ulfa")  # tests run with DEBUG off, as production does

    assert "simulated" not in page
    assert [e.channel for e in User.objects.get(username="ulfa").endpoints.all()] == ["web"]
