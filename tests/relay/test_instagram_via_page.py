"""Instagram both ways: through a Facebook Page (graph.facebook.com/<Page id>/messages) or with
Instagram Login (graph.instagram.com/<IG id>/messages), chosen per relay identity."""

from __future__ import annotations

import pytest

from relay.adapters.base import OutboundText, PlatformConfig
from relay.adapters.instagram import InstagramAdapter
from relay.models import RelayIdentity
from relay.services import snapshot
from tests.relay.conftest import BUYER, World

pytestmark = pytest.mark.worker
PAGE_ID = "200000000000001"

CONFIG = PlatformConfig(
    channel="instagram",
    api_base="https://graph.instagram.com/v26.0",
    page_api_base="https://graph.facebook.com/v26.0",
    access_token="t",
    app_secret="s",
)


def test_the_send_url_follows_the_identity_s_kind_of_instagram_api() -> None:
    adapter = InstagramAdapter(CONFIG)
    login = OutboundText("300000000000001", "9100000000000001", "hi")
    page = OutboundText("300000000000001", "9100000000000001", "hi", via_page_id=PAGE_ID)
    assert adapter.send_url(login) == "https://graph.instagram.com/v26.0/300000000000001/messages"
    assert adapter.send_url(page) == f"https://graph.facebook.com/v26.0/{PAGE_ID}/messages"


def test_a_buyer_on_instagram_through_a_page_gets_the_seller_s_answer(world: World) -> None:
    RelayIdentity.objects.filter(channel="instagram").update(page_id=PAGE_ID)
    snapshot.invalidate()
    world.connect_seller("web")
    world.buyer_writes("instagram", f"{world.handle} halo")
    conversation = world.listing.conversations.get()
    world.seller_web.post(f"/inbox/{conversation.code}/", {"text": "Halo juga"})
    sent = world.sandbox.wait_for_outbox(BUYER["instagram"], 2)
    answer = [record for record in sent if "Halo juga" in record["text"]]
    assert answer and answer[-1]["channel"] == "instagram"
    assert answer[-1]["posted_to"] == PAGE_ID  # through the Page, not the IG account
