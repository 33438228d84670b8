"""rotate_keys re-seals every address, conversation key and notice secret under a new key id,
can stop half-way and resume, and leaves everything readable once the old key is gone."""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import pytest
from django.core.management import call_command

from contacts import vault
from contacts.models import Endpoint
from contacts.services import endpoint_address
from relay import selectors
from relay.models import Conversation, Delivery, Side
from relay.services.outbound import open_secret_params, queue_notice
from tests.ops.conftest import Shop

pytestmark = pytest.mark.django_db
BUYERS = ["+6281234567001", "+6281234567002", "+6281234567003"]


def run(*args: str, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def everything_readable() -> dict[str, Any]:
    addresses = sorted(endpoint_address(endpoint) for endpoint in Endpoint.objects.all())
    bodies = sorted(
        shown.text
        for conversation in Conversation.objects.all()
        for shown in selectors.messages_for(conversation, viewer_side=Side.SELLER)
    )
    secrets = [open_secret_params(d) for d in Delivery.objects.exclude(sealed_params=None)]
    return {"addresses": addresses, "bodies": bodies, "secrets": secrets}


def key_ids() -> set[str]:
    blobs = [bytes(e.address_sealed) for e in Endpoint.objects.all()]
    blobs += [bytes(c.wrapped_key or b"") for c in Conversation.objects.exclude(wrapped_key=None)]
    blobs += [bytes(d.sealed_params or b"") for d in Delivery.objects.exclude(sealed_params=None)]
    return {vault.sealed_key_id(blob) for blob in blobs}


def test_rotation_interrupted_half_way_then_resumed_leaves_every_message_readable(
    shop: Shop, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for number, buyer in enumerate(BUYERS):
        shop.write(buyer, f"question {number} about the bike")
    with django_capture_on_commit_callbacks(execute=False):
        queue_notice(
            recipient=Endpoint.objects.filter(channel="whatsapp").first(),  # type: ignore[arg-type]
            identity=shop.identity,
            code="verification_code",
            secret_params={"code": "482913"},
        )
    before = everything_readable()
    old = settings.RELAY_KEY_CURRENT
    new_key = base64.b64encode(os.urandom(32))
    settings.RELAY_KEYRING = {**settings.RELAY_KEYRING, "k2": base64.b64decode(new_key)}
    settings.RELAY_KEY_CURRENT = "k2"

    out, err = run(limit=3, batch_size=2)

    assert "stopped at --limit 3" in out
    assert "[" in err and "/" in err  # the progress bar
    assert key_ids() == {old, "k2"}
    check, _ = run("--check")
    assert f"{old}:" in check and "k2: " in check and "not under the current key k2" in check

    out, _ = run(batch_size=2)

    assert "already current" in out and "stopped" not in out
    assert key_ids() == {"k2"}
    settings.RELAY_KEYRING = {"k2": base64.b64decode(new_key)}  # the operator removes the old key
    assert everything_readable() == before
    assert all(body.endswith("about the bike") for body in before["bodies"])
    check, _ = run("--check")
    assert "0 rows are not under the current key k2" in check


def test_rotation_reports_rows_whose_key_left_the_ring(shop: Shop, settings: Any) -> None:
    shop.write(BUYERS[0], "hello")
    settings.RELAY_KEYRING = {"k2": os.urandom(32)}
    settings.RELAY_KEY_CURRENT = "k2"

    with pytest.raises(Exception, match="do not open with any key in the ring"):
        run()
