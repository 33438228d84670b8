"""The hot path's plain SQL loads and stores rows exactly as the ORM does, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Model
from django.utils import timezone

from config import hotsql
from contacts import services as contacts
from contacts.models import Endpoint, User
from marketplace.models import Listing
from relay.models import Conversation, Delivery, Message

pytestmark = pytest.mark.django_db


def _fields(instance: object, model: type[Model]) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}


def _conversation() -> Conversation:
    seller = User.objects.create_user(username="hot-seller", password="x" * 12)
    listing = Listing.objects.create(seller=seller, title="Sepeda lipat", price=1500000)
    buyer, _ = contacts.get_or_create_endpoint(
        channel="sms", address="+6281234567001", inbound_at=timezone.now()
    )
    conversation = Conversation(listing=listing, buyer_endpoint=buyer, tag="K7Q2")
    conversation.wrapped_key = b"\x01wrapped"
    conversation.save()
    return conversation


def test_build_gives_what_the_orm_loads_for_every_hot_model() -> None:
    conversation = _conversation()
    message = Message(
        conversation=conversation, sender_side="buyer", channel="sms", body_sealed=b"\x00sealed"
    )
    hotsql.insert(message)
    delivery = Delivery(
        message=message,
        conversation=conversation,
        recipient_side="seller",
        recipient_endpoint=conversation.buyer_endpoint,
        channel="sms",
        notice_params={"introduce": True, "title": "Sepeda “lipat”"},
        next_attempt_at=timezone.now() + dt.timedelta(minutes=3),
    )
    hotsql.insert(delivery)
    for model, pk in (
        (Endpoint, conversation.buyer_endpoint_id),
        (Listing, conversation.listing_id),
        (Conversation, conversation.pk),
        (Message, message.pk),
        (Delivery, delivery.pk),
    ):
        row = hotsql.fetch_one(
            f"SELECT {hotsql.columns(model, 't')} FROM {model._meta.db_table} AS t WHERE t.id = %s",
            [pk],
        )
        assert row is not None
        built = hotsql.build(model, row)
        loaded = model.objects.get(pk=pk)
        assert _fields(built, model) == _fields(loaded, model), model.__name__
        assert built._state.adding is False
    stored = Delivery.objects.get(pk=delivery.pk)
    assert stored.notice_params == {"introduce": True, "title": "Sepeda “lipat”"}
    assert stored.created_at is not None and stored.updated_at is not None
    assert Message.objects.get(pk=message.pk).uid == message.uid


def test_an_insert_that_clashes_is_skipped_and_the_first_row_kept() -> None:
    conversation = _conversation()
    twin = Conversation(
        listing=conversation.listing, buyer_endpoint=conversation.buyer_endpoint, tag="ZZZZ"
    )
    assert hotsql.insert(twin, ignore_conflicts=True) is False
    assert twin.pk is None
    assert list(Conversation.objects.values_list("tag", flat=True)) == ["K7Q2"]


def test_datetimes_written_as_parameters_compare_like_the_orms() -> None:
    conversation = _conversation()
    soon = timezone.now() + dt.timedelta(seconds=30)
    hotsql.execute(
        "UPDATE relay_conversation SET closed_at = %s WHERE id = %s",
        [hotsql.when(soon), conversation.pk],
    )
    assert Conversation.objects.get(pk=conversation.pk).closed_at == soon
    assert Conversation.objects.filter(closed_at__gt=timezone.now()).count() == 1
    assert Conversation.objects.filter(closed_at__lte=timezone.now()).count() == 0
