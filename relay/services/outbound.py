"""Queueing outbound messages and notices: rows first, the task published on commit."""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config import hotsql
from contacts import vault
from contacts.models import Channel, Endpoint
from relay import crypto
from relay.models import Conversation, Delivery, Message, RelayIdentity, Side
from relay.services import event_counts, integrations, notifications, snapshot
from relay.services.conversations import pick_identity, recipient_endpoint_for_seller
from relay.services.counters import Counter, count

logger = logging.getLogger(__name__)


def publish(delivery_ids: list[int]) -> None:
    """Publish deliver(id) for each id once the surrounding transaction commits."""
    if not delivery_ids:
        return
    from relay.tasks import deliver

    def send() -> None:
        try:
            for delivery_id in delivery_ids:
                deliver.delay(delivery_id)
        except Exception:
            # The rows are committed and pending: the sweeper publishes them once the broker is
            # back (the outbox pattern). The webhook's answer must not depend on the broker.
            logger.warning("publish after commit failed; the sweeper will publish it")
            count(Counter.PUBLISH_FAILURES)

    transaction.on_commit(send)


# Take a conversation's next sequence number (params: now, conversation id). The UPDATE takes
# the row lock until commit, so concurrent writers to one conversation get consecutive numbers
# in the order they commit (PostgreSQL, SQLite 3.35+: RETURNING).
_TAKE_SEQ = (
    "UPDATE relay_conversation SET next_seq = next_seq + 1, last_activity_at = %s "
    "WHERE id = %s RETURNING next_seq - 1 AS seq"
)


def _next_seq(conversation: Conversation) -> int:
    """Take the conversation's next sequence number in one statement."""
    row = hotsql.fetch_one(_TAKE_SEQ, [hotsql.when(timezone.now()), conversation.pk])
    assert row is not None, "the conversation row exists"
    return int(row[0])


def _take_seq(conversation: Conversation) -> int:
    seq = conversation.opening_seq
    conversation.opening_seq = None  # reserved for one message only
    return seq if seq is not None else _next_seq(conversation)


def _store(conversation: Conversation, message: Message, delivery: Delivery) -> None:
    """Take the stream's next sequence number, INSERT the message and its delivery.

    On PostgreSQL that is one statement (data-modifying CTEs) instead of three: these run
    for every relayed message. SQLite has no data-modifying CTEs and runs the three."""
    if connection.vendor != "postgresql":
        delivery.seq = _take_seq(conversation)
        hotsql.insert(message)
        delivery.message = message
        hotsql.insert(delivery)
        return
    parts, params = [], []
    computed = {"message_id": "(SELECT id FROM m)"}
    if conversation.opening_seq is not None:
        delivery.seq = _take_seq(conversation)  # reserved when it opened: no UPDATE
    else:
        parts.append(f"s AS ({_TAKE_SEQ})")
        params += [hotsql.when(timezone.now()), conversation.pk]
        computed["seq"] = "(SELECT seq FROM s)"
    names, values, message_params = hotsql.insert_parts(message)
    parts.append(
        f"m AS (INSERT INTO {Message._meta.db_table} ({names}) "  # noqa: S608
        f"VALUES ({values}) RETURNING id)"
    )
    params += message_params
    names, values, delivery_params = hotsql.insert_parts(delivery, computed)
    params += delivery_params
    row = hotsql.fetch_one(
        f"WITH {', '.join(parts)} INSERT INTO {Delivery._meta.db_table} ({names}) "  # noqa: S608
        f"VALUES ({values}) RETURNING id, message_id, seq",
        params,
    )
    assert row is not None
    hotsql.stored(message, row[1])
    delivery.message = message
    hotsql.stored(delivery, row[0])
    delivery.seq = row[2]


def identity_of(identity_id: int | None) -> RelayIdentity | None:
    """A conversation's pool identity: active ones from the snapshot, others from the table."""
    if identity_id is None:
        return None
    found = snapshot.current().identities_by_pk.get(identity_id)
    return found if found is not None else RelayIdentity.objects.get(pk=identity_id)


def recipient_for(conversation: Conversation, side: str) -> tuple[Endpoint, RelayIdentity | None]:
    """Where a message for `side` goes, keeping the pool identity assigned to the conversation."""
    if side == Side.BUYER:
        return conversation.buyer_endpoint, identity_of(conversation.buyer_identity_id)
    endpoint = conversation.opening_seller_endpoint or recipient_endpoint_for_seller(
        conversation.listing
    )
    identity = identity_of(conversation.seller_identity_id)
    if endpoint.channel == Channel.WEB:
        return endpoint, None
    if identity is None or identity.channel != endpoint.channel or not identity.active:
        # The seller switched channels since the conversation began: take a pool identity there.
        identity = pick_identity(endpoint.channel, seller_id=conversation.listing.seller_id)
        conversation.seller_identity = identity
        conversation.save(update_fields=["seller_identity"])
    return endpoint, identity


def relay_message(
    *,
    conversation: Conversation,
    sender_side: str,
    sender: Endpoint | None,
    identity: RelayIdentity | None,
    text: str,
    channel: str,
    provider_message_id: str | None = None,
    hold: bool = False,
    introduce: bool = False,
    commitment: bytes | None = None,
    await_photos: bool = False,
    with_photos: bool = False,
) -> Message:
    """Store an encrypted message and queue its delivery to the other side.

    With a franking `commitment`, `text` is a web ↔ web envelope the server cannot read
    (relay/services/e2ee.py): stored sealed like any body, never rendered for an app.
    `with_photos`: photos go with it. With `await_photos` they are still downloading, and
    the delivery is not published: the downloads release it (relay/services/media_fetch.py),
    and a backstop time lets the sweeper find it anyway.
    Must be called inside `transaction.atomic()`.
    """
    message = Message(
        conversation=conversation,
        sender_side=sender_side,
        sender_endpoint=sender,
        identity=identity,
        channel=channel,
        provider_message_id=provider_message_id,
        e2ee=commitment is not None,
        franking_commitment=commitment,
    )
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    message.body_sealed = crypto.encrypt_body(key, message.uid, text)
    # Counted here, the one place a Message row is created (whatever the road), on commit.
    event_counts.message_accepted(channel=channel)
    if hold:
        _take_seq(conversation)  # the stream still counts it
        hotsql.insert(message)
        return message  # kept (sealed) as evidence, never delivered
    other = Side.SELLER if sender_side == Side.BUYER else Side.BUYER
    recipient, via = recipient_for(conversation, other)
    delivery = Delivery(
        conversation=conversation,
        recipient_side=other,
        recipient_endpoint=recipient,
        identity=via,
        channel=recipient.channel,
        # The first message a seller gets in a conversation says which listing it is about.
        notice_params={
            **({"introduce": True} if introduce else {}),
            **({"photos": True} if with_photos or await_photos else {}),
        },
    )
    if await_photos:
        delivery.next_attempt_at = timezone.now() + dt.timedelta(
            seconds=settings.RELAY_MEDIA_FETCH_SECONDS * settings.RELAY_MEDIA_FETCH_ATTEMPTS
        )
    _store(conversation, message, delivery)
    if not await_photos:
        publish([delivery.pk])
    if introduce:
        # A seller away from the inbox hears of a new buyer by e-mail (if they want it).
        notifications.publish_new_conversation(conversation.pk)
    if conversation.listing.seller_id in snapshot.current().integrator_users:
        # Only sellers with integrator webhooks pay for telling them.
        transaction.on_commit(lambda: integrations.message_relayed(message.pk), robust=True)
    return message


def queue_notice(
    *,
    recipient: Endpoint,
    identity: RelayIdentity | None,
    code: str,
    params: dict[str, str] | None = None,
    secret_params: dict[str, str] | None = None,
    conversation: Conversation | None = None,
    side: str = Side.BUYER,
) -> Delivery:
    """Queue a relay notice (help, confirmations, failures) to one endpoint."""
    if identity is None and recipient.channel != Channel.WEB:
        identity = pick_identity(recipient.channel)
    delivery = Delivery(
        conversation=conversation,
        recipient_side=side,
        recipient_endpoint=recipient,
        identity=identity,
        channel=recipient.channel,
        kind=Delivery.Kind.NOTICE,
        notice_code=code,
        notice_params=params or {},
        seq=_next_seq(conversation) if conversation is not None else 0,
    )
    if secret_params:
        delivery.sealed_params = vault.seal(
            json.dumps(secret_params).encode(), aad=f"notice:{recipient.pk}:{code}".encode()
        )
    delivery.save()
    publish([delivery.pk])
    return delivery


def open_secret_params(delivery: Delivery) -> dict[str, str]:
    if not delivery.sealed_params:
        return {}
    aad = f"notice:{delivery.recipient_endpoint_id}:{delivery.notice_code}".encode()
    opened: dict[str, str] = json.loads(vault.open_sealed(delivery.sealed_params, aad=aad))
    return opened


def release_waiting(*, recipient: Endpoint) -> set[str]:
    """The recipient wrote, so their window is open: send what waited for it as free text.
    Return the (keyed) platform ids of the templates that had stood in for it."""
    waiting = dict(
        Delivery.objects.filter(
            recipient_endpoint=recipient, state=Delivery.State.WAITING
        ).values_list("pk", "provider_message_id")
    )
    if waiting:
        Delivery.objects.filter(pk__in=list(waiting), state=Delivery.State.WAITING).update(
            state=Delivery.State.PENDING, force_template=False, updated_at=timezone.now()
        )
        publish(list(waiting))
    return {key for key in waiting.values() if key}
