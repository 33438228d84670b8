"""export_user hands a user their own data; delete_user leaves none of it readable."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from contacts import services as contacts
from contacts import vault
from contacts.models import Endpoint, User
from relay import crypto, selectors
from relay.models import Conversation, Message, Side
from tests.conftest import PASSWORD
from tests.ops.conftest import Shop, open_shop

pytestmark = pytest.mark.django_db
SELLER_PHONE = "+6281299990001"
BUYERS = ["+6281234567001", "+6281234567002"]


@pytest.fixture
def sellers_world(
    shop: Shop, other_seller: User, django_capture_on_commit_callbacks: Any
) -> dict[str, Any]:
    """Sari sells a bike (two buyers wrote) and, from her own WhatsApp, asks Joko about a lamp."""
    phone, _ = contacts.get_or_create_endpoint(channel="whatsapp", address=SELLER_PHONE)
    contacts.claim_endpoint(user=shop.seller, endpoint=phone)
    chats = [shop.write(buyer, f"secret question {n}") for n, buyer in enumerate(BUYERS)]
    lamp = open_shop(other_seller, django_capture_on_commit_callbacks, title="Desk lamp")
    as_buyer = lamp.write(SELLER_PHONE, "sari asks about the lamp")
    joko_side = lamp.write("+6281234567009", "another buyer asks about the lamp")
    return {"chats": chats, "as_buyer": as_buyer, "joko_side": joko_side}


def every_readable_text() -> list[str]:
    """Everything the database still lets anyone decrypt: addresses and bodies."""
    found = []
    for endpoint in Endpoint.objects.all():
        with contextlib.suppress(vault.VaultError):
            found.append(contacts.endpoint_address(endpoint))
    for message in Message.objects.select_related("conversation"):
        try:
            key = crypto.unwrap_key(message.conversation.wrapped_key, message.conversation.code)
            found.append(crypto.decrypt_body(key, message.uid, message.body_sealed))
        except crypto.BodyUnreadable:
            pass
    return found


def test_export_user_gives_the_seller_their_own_numbers_and_messages_but_no_buyer_number(
    sellers_world: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "sari.json"
    err = io.StringIO()

    call_command("export_user", username="sari", output=str(target), stderr=err)

    document = json.loads(target.read_text())
    assert document["profile"]["email"] == "sari@example.com"
    assert SELLER_PHONE in [endpoint["address"] for endpoint in document["endpoints"]]
    chats = document["listings"][0]["conversations"]
    assert sorted(m["text"].split(" ", 1)[1] for c in chats for m in c["messages"]) == [
        "secret question 0",
        "secret question 1",
    ]
    assert document["conversations_as_buyer"][0]["messages"][0]["from"] == "you"
    text = target.read_text()
    assert all(buyer not in text for buyer in BUYERS)
    assert "another buyer" not in text
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert "Exported" in err.getvalue()


def test_delete_user_leaves_no_readable_body_or_address_of_that_user(
    sellers_world: dict[str, Any], client: Client
) -> None:
    with pytest.raises(CommandError, match="--yes"):
        call_command("delete_user", username="sari", stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()

    call_command("delete_user", username="sari", yes=True, stdout=out, stderr=io.StringIO())

    readable = every_readable_text()
    assert SELLER_PHONE not in readable
    assert not any("secret question" in text or "sari asks" in text for text in readable)
    for chat in sellers_world["chats"]:
        chat.refresh_from_db()
        shown = selectors.messages_for(chat, viewer_side=Side.SELLER)
        assert [m.text for m in shown] == ["(this message has expired)"]
    # Joko keeps his other buyer's conversation; Sari's own message to him is gone.
    joko_view = selectors.messages_for(sellers_world["as_buyer"], viewer_side=Side.SELLER)
    assert [m.text for m in joko_view] == ["(this message cannot be read)"]
    other = selectors.messages_for(sellers_world["joko_side"], viewer_side=Side.SELLER)
    assert other[0].text.endswith("another buyer asks about the lamp")
    # The buyers who wrote to Sari keep their own endpoints (they are not Sari's data).
    assert sorted(b for b in BUYERS if b in readable) == BUYERS
    assert not User.objects.filter(username="sari").exists()
    assert not client.login(username="sari", password=PASSWORD)
    assert Conversation.objects.filter(listing__seller__is_active=False).count() == 2
    assert "shredded 2 conversations" in out.getvalue()
