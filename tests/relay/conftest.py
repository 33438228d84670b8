"""A relay world for end-to-end tests: the sandbox's identities, a seller, a listing."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Endpoint, User
from marketplace import handles
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import services as relay

FIXTURE = Path(__file__).resolve().parents[2] / "sandbox" / "demo.json"
IDENTITY = {
    "whatsapp": "wa-main",
    "sms": "sms-main",
    "messenger": "fb-page",
    "instagram": "ig-main",
}
BUYER = {"whatsapp": "ana", "instagram": "budi", "messenger": "citra", "sms": "dewi"}
SELLER = {"whatsapp": "sari-wa", "instagram": "sari-ig", "messenger": "sari-fb", "sms": "sari-sms"}
EXTRA_PEOPLE = [
    {
        "key": "sari-fb",
        "name": "Sari (seller)",
        "channel": "messenger",
        "address": "9200000000000099",
        "bsuid": None,
        "language": "id",
    },
    {
        "key": "sari-sms",
        "name": "Sari (seller)",
        "channel": "sms",
        "address": "+14155550199",
        "bsuid": None,
        "language": "en",
    },
]


def people() -> dict[str, dict[str, Any]]:
    listed = json.loads(FIXTURE.read_text())["people"] + EXTRA_PEOPLE
    return {person["key"]: person for person in listed}


def wait_until(check: Any, *, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class World:
    seller: User
    listing: Listing
    handle: str
    sandbox: Any
    seller_web: Client

    def connect_seller(self, channel: str, *, active: bool = True) -> Endpoint | None:
        """Make `channel` the seller's preferred channel (web: the web inbox)."""
        if channel == "web":
            endpoint = self.seller.endpoints.get(channel="web")
        else:
            person = people()[SELLER[channel]]
            endpoint, _ = contacts.get_or_create_endpoint(
                channel=channel, address=person["address"]
            )
            contacts.claim_endpoint(user=self.seller, endpoint=endpoint)
            if active:
                Endpoint.objects.filter(pk=endpoint.pk).update(last_inbound_at=timezone.now())
        contacts.set_preferred_endpoint(user=self.seller, endpoint=endpoint)
        return endpoint

    def buyer_writes(self, channel: str, text: str, *, reply_to: str | None = None) -> Any:
        if channel == "web":
            client = Client()
            response = client.post(
                reverse("relay:buyer_chat_start", args=[self.listing.code]), {"text": text}
            )
            assert response.status_code == 302, response.content
            return client, response["Location"]
        answer = self.sandbox.send_inbound(
            BUYER[channel], IDENTITY[channel], text, reply_to=reply_to
        )
        assert answer["relay_status"] == 200, answer
        return answer

    def seller_writes(self, channel: str, text: str, *, reply_to: str | None = None) -> None:
        if channel == "web":
            conversation = self.listing.conversations.get()
            response = self.seller_web.post(
                reverse("relay:conversation", args=[conversation.code]), {"text": text}
            )
            assert response.status_code == 302
            return
        answer = self.sandbox.send_inbound(
            SELLER[channel], IDENTITY[channel], text, reply_to=reply_to
        )
        assert answer["relay_status"] == 200, answer


@pytest.fixture
def world(
    live_server: Any, sandbox_client: Any, celery_worker: Any, transactional_db: None
) -> Iterator[World]:
    for identity in json.loads(FIXTURE.read_text())["identities"]:
        relay.add_relay_identity(
            channel=identity["channel"],
            provider_id=identity["provider_id"],
            address=identity["address"],
        )
    known = {person["key"] for person in sandbox_client.state()["people"]}
    for person in EXTRA_PEOPLE:
        if person["key"] not in known:
            sandbox_client.add_person(**person)
    seller = contacts.register_user(
        username="sari", email="sari@example.com", password="pw-sari-12345", display_name="Sari"
    )
    listing = marketplace.create_listing(
        seller=seller, title="Mountain bike", price=Decimal("3500000"), city="Bandung"
    )
    handle = handles.live_handle(listing)
    assert handle is not None
    seller_web = Client()
    seller_web.force_login(seller)
    yield World(seller, listing, handle.display, sandbox_client, seller_web)
    _let_the_worker_finish()


def _let_the_worker_finish(timeout: float = 10.0) -> None:
    """The worker may still be sending what the test's last step queued (a notice, a "sent to
    the seller" word); flushing the tables under it deadlocks PostgreSQL's TRUNCATE. Wait,
    bounded, until nothing is being sent or due."""
    from django.db.models import Q

    from relay.models import Delivery

    due = Q(state="sending") | Q(state="pending", next_attempt_at__isnull=True)
    deadline = time.monotonic() + timeout
    while Delivery.objects.filter(due).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def an_hour_ago() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=1)
