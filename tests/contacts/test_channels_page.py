"""The channels page: where a seller's messages reach them and how to connect more."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from relay.models import RelayIdentity


def test_a_link_code_is_shown_with_the_relay_account_to_send_it_to(seller_client: Any) -> None:
    RelayIdentity.objects.create(channel="instagram", provider_id="ig-1", address="perantara.ig")
    RelayIdentity.objects.create(channel="messenger", provider_id="pg-1", address="perantara.pg")
    RelayIdentity.objects.create(
        channel="instagram", provider_id="ig-0", address="retired.ig", active=False
    )
    seller_client.post(reverse("contacts:link_code"), {"channel": "instagram"})

    page = seller_client.get(reverse("contacts:channels")).content.decode()

    assert "LINK-" in page and "perantara.ig" in page
    assert "perantara.pg" not in page  # another channel's account
    assert "retired.ig" not in page  # an identity no longer in use
