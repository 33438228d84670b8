"""Times in the reader's zone: Asia/Jakarta unless they chose another; storage stays UTC."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.models import Conversation, Message
from relay.services import moderation

# 18:25 UTC is 01:25 the next morning in Jakarta (WIB, UTC+7) and 02:25 in Bali (WITA, UTC+8).
WRITTEN_AT = dt.datetime(2026, 12, 1, 18, 25, tzinfo=dt.UTC)


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(
        seller=seller, title="Mountain bike", price=Decimal("2750000"), city="Bandung"
    )


@pytest.fixture
def conversation(listing: Listing) -> Conversation:
    with time_machine.travel(WRITTEN_AT, tick=False):
        response = Client().post(
            reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Masih ada?"}
        )
    assert response.status_code == 302
    return Conversation.objects.get(listing=listing)


def bubble_times(html: str) -> list[str]:
    """The times under the messages (not the thread list's "5 minutes ago")."""
    bubbles = html.split('id="bubbles"', 1)[1].split("</div>\n", 1)[0]
    return re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", bubbles)


def test_a_message_at_18_25_utc_shows_01_25_to_a_seller_in_jakarta(
    seller_client: Any, conversation: Conversation
) -> None:
    assert Message.objects.get().created_at == WRITTEN_AT  # stored in UTC, untouched
    with time_machine.travel(WRITTEN_AT + dt.timedelta(minutes=5), tick=False):
        page = seller_client.get(reverse("relay:conversation", args=[conversation.code]))
    html = page.content.decode()
    assert "01:25" in bubble_times(html)
    assert "18:25" not in html
    assert 'datetime="2026-12-02T01:25:00+07:00"' in html


def test_a_seller_who_chose_bali_time_sees_02_25(
    seller_client: Any, seller: User, conversation: Conversation
) -> None:
    response = seller_client.post(
        reverse("contacts:time_zone"), {"time_zone": "Asia/Makassar"}, follow=True
    )
    assert "Times are now shown in WITA (Asia/Makassar, UTC+8)." in response.content.decode()
    seller.refresh_from_db()
    assert seller.time_zone == "Asia/Makassar"

    with time_machine.travel(WRITTEN_AT + dt.timedelta(minutes=5), tick=False):
        html = seller_client.get(
            reverse("relay:conversation", args=[conversation.code])
        ).content.decode()
    assert set(bubble_times(html)) == {"02:25"}


def test_an_older_message_shows_its_local_date_as_well(
    seller_client: Any, conversation: Conversation
) -> None:
    with time_machine.travel(WRITTEN_AT + dt.timedelta(days=3), tick=False):
        html = seller_client.get(
            reverse("relay:conversation", args=[conversation.code])
        ).content.decode()
    assert set(bubble_times(html)) == {"2 Dec, 01:25"}  # the Jakarta date, not 1 Dec


def test_the_channels_page_has_a_labelled_time_zone_select_showing_the_current_zone(
    seller_client: Any,
) -> None:
    html = seller_client.get(reverse("contacts:channels")).content.decode()
    assert '<label for="id_time_zone">Show times in</label>' in html
    assert '<option value="Asia/Jakarta" selected>WIB — Western Indonesia' in html
    assert '<option value="Asia/Jayapura">WIT — Eastern Indonesia (Maluku, Papua)' in html

    html = seller_client.get(
        reverse("contacts:channels"), headers={"accept-language": "id"}
    ).content.decode()
    assert '<label for="id_time_zone">Tampilkan waktu dalam</label>' in html
    assert "WIB — Indonesia Barat (Jakarta, Jawa, Sumatra)" in html


def test_a_zone_not_in_the_list_is_refused_and_nothing_changes(
    seller_client: Any, seller: User
) -> None:
    response = seller_client.post(
        reverse("contacts:time_zone"), {"time_zone": "Mars/Olympus_Mons"}, follow=True
    )
    assert "Choose a time zone from the list." in response.content.decode()
    seller.refresh_from_db()
    assert seller.time_zone == ""


def test_the_default_zone_comes_from_settings(
    seller_client: Any, conversation: Conversation, settings: Any
) -> None:
    settings.RELAY_DEFAULT_USER_TIME_ZONE = "UTC"
    with time_machine.travel(WRITTEN_AT + dt.timedelta(minutes=5), tick=False):
        html = seller_client.get(
            reverse("relay:conversation", args=[conversation.code])
        ).content.decode()
    assert set(bubble_times(html)) == {"18:25"}


def test_the_buyer_on_the_web_chat_sees_jakarta_time_too(listing: Listing) -> None:
    buyer = Client()
    with time_machine.travel(WRITTEN_AT, tick=False):
        response = buyer.post(
            reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Masih ada?"}
        )
        html = buyer.get(response["Location"]).content.decode()
    assert set(bubble_times(html)) == {"01:25"}


def test_the_zone_of_one_request_does_not_leak_into_the_next(
    seller_client: Any, seller: User
) -> None:
    seller.time_zone = "Asia/Jayapura"
    seller.save()
    seller_client.get(reverse("contacts:channels"))
    assert timezone.get_current_timezone_name() == "UTC"


def moderator(time_zone: str = "") -> Client:
    user = User.objects.create_user(
        username="mod", email="mod@example.com", password="mod-password-123", time_zone=time_zone
    )
    user.groups.add(Group.objects.get_or_create(name="moderator")[0])
    client = Client()
    client.force_login(user)
    return client


def test_moderators_see_report_times_in_their_own_zone_and_which_zone_it_is(
    listing: Listing,
) -> None:
    with time_machine.travel(WRITTEN_AT, tick=False):
        report = moderation.file_report(
            listing=listing, reporter_side="public", reason="prohibited", note=""
        )
    client = moderator("Asia/Makassar")

    report_page = client.get(reverse("relay:moderation_report", args=[report.code]))
    assert "Filed 2026-12-02 02:25 WITA (Asia/Makassar, UTC+8)" in report_page.content.decode()
    queue = client.get(reverse("relay:moderation_queue")).content.decode()
    assert "2026-12-02 02:25" in queue
    assert "Times are in WITA (Asia/Makassar, UTC+8)." in queue
    audit = client.get(reverse("relay:moderation_audit")).content.decode()
    assert "Time (WITA (Asia/Makassar, UTC+8))" in audit


def test_a_moderator_who_chose_nothing_is_told_times_are_in_wib(db: None) -> None:
    queue = moderator().get(reverse("relay:moderation_queue")).content.decode()
    assert "Times are in WIB (Asia/Jakarta, UTC+7)." in queue
