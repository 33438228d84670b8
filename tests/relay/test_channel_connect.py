"""Sellers connect channels: a code sent by the relay for phones, a link code for Meta apps."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from contacts.models import Endpoint
from tests.relay.conftest import SELLER, World, people

pytestmark = pytest.mark.worker


def test_a_whatsapp_number_is_verified_by_a_code_the_relay_sends_to_it(world: World) -> None:
    number = people()[SELLER["whatsapp"]]["address"]
    page = world.seller_web.post(
        reverse("contacts:add_phone"),
        {"channel": "whatsapp", "region": "ID", "number": number},
    )
    assert page.status_code == 302
    message = world.sandbox.wait_for_outbox(SELLER["whatsapp"], 1)[-1]["text"]
    code = re.search(r"\b(\d{6})\b", message)
    assert code is not None, message
    # The code rests sealed: no delivery row shows it.
    assert not any(code.group(1) in str(row) for row in Endpoint.objects.values_list())
    done = world.seller_web.post(page["Location"], {"code": code.group(1)}, follow=True)
    assert "Number verified." in done.content.decode()
    assert world.seller.endpoints.get(channel="whatsapp").verified


def test_instagram_is_connected_by_writing_a_link_code_to_the_relay(world: World) -> None:
    world.seller_web.post(reverse("contacts:link_code"), {"channel": "instagram"})
    link = world.seller.link_codes.get()
    answer = world.sandbox.send_inbound(SELLER["instagram"], "ig-main", link.code.lower())
    assert answer["relay_status"] == 200
    confirmation = world.sandbox.wait_for_outbox(SELLER["instagram"], 1)[-1]["text"]
    assert "connected to your Perantara account" in confirmation or "terhubung" in confirmation
    endpoint = world.seller.endpoints.get(channel="instagram")
    assert endpoint.verified and endpoint.preferred
