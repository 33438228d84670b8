"""purge shreds conversations that ended more than the retention window ago."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from relay import selectors
from relay.models import Conversation, Delivery, Side
from tests.ops.conftest import Shop, days_ago

pytestmark = pytest.mark.django_db
EXPIRED = "(this message has expired)"


def texts(conversation: Conversation) -> list[str]:
    conversation.refresh_from_db()
    return [shown.text for shown in selectors.messages_for(conversation, viewer_side=Side.SELLER)]


def purge(**options: Any) -> str:
    out = io.StringIO()
    call_command("purge", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_purge_makes_old_bodies_unreadable_and_leaves_newer_ones(shop: Shop) -> None:
    old_closed = shop.write("+6281234567001", "old closed chat")
    old_blocked = shop.write("+6281234567002", "old blocked chat")
    recent = shop.write("+6281234567003", "recently closed chat")
    still_open = shop.write("+6281234567004", "open but quiet chat")
    Conversation.objects.filter(pk=old_closed.pk).update(status="closed", closed_at=days_ago(120))
    # Blocked with no closed_at: the last activity counts.
    Conversation.objects.filter(pk=old_blocked.pk).update(
        status="blocked", closed_at=None, last_activity_at=days_ago(95)
    )
    Conversation.objects.filter(pk=recent.pk).update(status="closed", closed_at=days_ago(10))
    Conversation.objects.filter(pk=still_open.pk).update(last_activity_at=days_ago(400))
    Delivery.objects.filter(conversation=old_closed).update(sealed_params=b"sealed-secret")

    dry = purge(dry_run=True)

    assert "Would close 2 idle conversations" in dry and "Would shred 1 conversations" in dry
    assert texts(old_closed) == [f"{shop.handle} old closed chat"]

    done = purge()

    assert "Closed 2 idle conversations" in done
    assert "Shredded 1 conversations" in done and "cleared 1 sealed notice" in done
    assert texts(old_closed) == [EXPIRED]
    assert texts(recent) == [f"{shop.handle} recently closed chat"]
    # Idle past RELAY_IDLE_CLOSE_DAYS: closed now, shredded once retention has passed since.
    for idle in (old_blocked, still_open):
        assert texts(idle) == [
            f"{shop.handle} {'old blocked' if idle == old_blocked else 'open but quiet'} chat"
        ]
        assert idle.status == "closed"
    assert not Delivery.objects.filter(conversation=old_closed).exclude(sealed_params=None)
    assert "Shredded 0 conversations" in purge()


def test_purge_honours_a_shorter_window(shop: Shop) -> None:
    chat = shop.write("+6281234567001", "closed last week")
    Conversation.objects.filter(pk=chat.pk).update(status="closed", closed_at=days_ago(8))

    assert "Shredded 0 conversations" in purge()
    assert "Shredded 1 conversations" in purge(days=7)
    assert texts(chat) == [EXPIRED]


def test_purge_forgets_idempotency_keys_past_their_retry_window(shop: Shop) -> None:
    import datetime as dt

    from django.utils import timezone

    from relay.api.idempotency import key_hash
    from relay.models import IdempotencyRecord

    def record(key: str, hours_old: int) -> None:
        stored = IdempotencyRecord.objects.create(
            user=shop.seller,
            key_hash=key_hash(user_id=shop.seller.pk, key=key),
            request_fingerprint="h",
            response_status=201,
        )
        IdempotencyRecord.objects.filter(pk=stored.pk).update(
            created_at=timezone.now() - dt.timedelta(hours=hours_old)
        )

    record("old", 30)
    record("fresh", 2)
    assert "would delete 1 stored API responses" in purge(dry_run=True)
    assert IdempotencyRecord.objects.count() == 2
    assert "deleted 1 stored API responses" in purge()
    assert list(IdempotencyRecord.objects.values_list("key_hash", flat=True)) == [
        key_hash(user_id=shop.seller.pk, key="fresh")
    ]
