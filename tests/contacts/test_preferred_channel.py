"""Where buyers' messages reach a seller: said where it matters, and never lost on removal."""

from __future__ import annotations

import datetime as dt
import html as entities
import re
from typing import Any

import time_machine
from django.urls import reverse

from contacts import services as contacts
from contacts.models import Endpoint, User

DAY_ONE = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
ADDRESSES = {
    "whatsapp": "+6281234567001",
    "sms": "+6281234567002",
    "instagram": "17841400000000123",
}


def connect(seller: User, channel: str, *, days_later: int) -> Endpoint:
    """The seller proves `channel`, `days_later` days after DAY_ONE."""
    with time_machine.travel(DAY_ONE + dt.timedelta(days=days_later), tick=False):
        endpoint, _ = contacts.get_or_create_endpoint(channel=channel, address=ADDRESSES[channel])
        contacts.claim_endpoint(user=seller, endpoint=endpoint)
    endpoint.refresh_from_db()
    return endpoint


def remove(client: Any, endpoint: Endpoint, language: str = "en") -> str:
    response = client.post(
        reverse("contacts:endpoint_action", args=[endpoint.code, "remove"]),
        headers={"accept-language": language},
        follow=True,
    )
    return entities.unescape(response.content.decode())


def page(client: Any, url: str, language: str = "en") -> str:
    """The page as a person reads it (entities such as ' decoded)."""
    response = client.get(url, headers={"accept-language": language})
    return entities.unescape(response.content.decode())


def preferred_channel(seller: User) -> str:
    return str(seller.endpoints.get(preferred=True).channel)


def test_the_dashboard_says_where_buyers_messages_reach_the_seller(
    seller_client: Any, seller: User
) -> None:
    dashboard = reverse("marketplace:dashboard")
    assert "Buyers' messages reach you in your web inbox." in page(seller_client, dashboard)

    connect(seller, "instagram", days_later=0)
    assert "Buyers' messages reach you on Instagram." in page(seller_client, dashboard)
    html = page(seller_client, dashboard, "id")
    assert "Pesan pembeli sampai kepada Anda di Instagram." in html


def test_removing_the_preferred_channel_hands_over_to_the_most_recently_verified_one(
    seller_client: Any, seller: User
) -> None:
    whatsapp = connect(seller, "whatsapp", days_later=0)
    connect(seller, "instagram", days_later=1)
    connect(seller, "sms", days_later=2)  # the newest: it takes over first
    assert preferred_channel(seller) == "whatsapp"  # an app never takes over from another

    html = remove(seller_client, whatsapp)
    assert "Channel removed. Buyers' messages now reach you on SMS." in html
    assert preferred_channel(seller) == "sms"
    assert "reach you on SMS." in page(seller_client, reverse("marketplace:dashboard"))

    html = remove(seller_client, seller.endpoints.get(channel="sms"), language="id")
    assert "Saluran dihapus. Pesan pembeli kini sampai kepada Anda di Instagram." in html
    assert preferred_channel(seller) == "instagram"

    html = remove(seller_client, seller.endpoints.get(channel="instagram"))
    assert "Channel removed. Buyers' messages now reach you in your web inbox." in html
    assert preferred_channel(seller) == "web"


def test_removing_another_channel_leaves_the_preferred_one_alone(
    seller_client: Any, seller: User
) -> None:
    connect(seller, "whatsapp", days_later=0)
    instagram = connect(seller, "instagram", days_later=1)

    html = remove(seller_client, instagram)
    assert "Channel removed." in html and "now reach you" not in html
    assert preferred_channel(seller) == "whatsapp"


def test_a_channel_reconnected_later_counts_as_the_newest(seller_client: Any, seller: User) -> None:
    whatsapp = connect(seller, "whatsapp", days_later=0)
    instagram = connect(seller, "instagram", days_later=1)
    sms = connect(seller, "sms", days_later=2)
    remove(seller_client, instagram)  # not preferred: nothing moves
    connect(seller, "instagram", days_later=3)  # verified again, after SMS

    remove(seller_client, whatsapp)
    assert preferred_channel(seller) == "instagram"
    assert sms.pk in seller.endpoints.values_list("pk", flat=True)


def removal_dialog(html: str, endpoint: Endpoint) -> str:
    dialog = rf'<dialog class="confirm" id="confirm-remove-{endpoint.code}".*?</dialog>'
    match = re.search(dialog, html, re.S)
    assert match, "no confirmation dialog for this channel"
    return match.group(0)


def test_the_confirmation_names_the_channel_that_takes_over(
    seller_client: Any, seller: User
) -> None:
    whatsapp = connect(seller, "whatsapp", days_later=0)
    instagram = connect(seller, "instagram", days_later=1)
    channels = reverse("contacts:channels")

    html = page(seller_client, channels)
    assert "Buyers' messages will reach you on Instagram instead." in removal_dialog(html, whatsapp)
    assert "keep reaching your preferred channel" in removal_dialog(html, instagram)
    assert "Buyers' messages reach you on WhatsApp." in html

    html = page(seller_client, channels, "id")
    assert "Selanjutnya pesan pembeli akan sampai kepada Anda di Instagram." in removal_dialog(
        html, whatsapp
    )


def test_making_a_channel_preferred_says_where_messages_now_reach(
    seller_client: Any, seller: User
) -> None:
    connect(seller, "whatsapp", days_later=0)
    instagram = connect(seller, "instagram", days_later=1)
    response = seller_client.post(
        reverse("contacts:endpoint_action", args=[instagram.code, "prefer"]), follow=True
    )
    assert "Buyers' messages reach you on Instagram." in entities.unescape(
        response.content.decode()
    )
    assert preferred_channel(seller) == "instagram"
