"""Status webhooks move deliveries forward: sent → delivered → read (or failed).

Platforms send statuses out of order and `read` may come without `delivered`, so a status
only ever moves a delivery forward; a late `delivered` after `read` changes nothing.
"""

from __future__ import annotations

import functools

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config import hotsql
from contacts import services as contacts
from contacts.models import Channel
from relay import crypto
from relay.adapters.base import StatusUpdate
from relay.models import Delivery, EarlyStatus
from relay.services import early_statuses, photos
from relay.services.delivery import mark_failed
from relay.services.early_statuses import EARLIER
from relay.services.outbound import publish

__all__ = ["EARLIER", "accept_status", "apply_kept_statuses"]
WINDOW_CLOSED_CODES = {"131047"}


def accept_status(*, update: StatusUpdate) -> int:
    """Record one status; return how many deliveries changed.

    A status whose id matches no delivery yet is kept (relay/services/early_statuses.py): the
    platform may have fired it before the worker stored the id it got back from the send.
    """
    if update.status not in EARLIER:
        return 0
    if update.provider_message_id is None:
        return _accept_watermark(update)
    key = crypto.provider_key(update.provider_message_id)
    changed = _apply(
        channel=update.channel, key=key, status=update.status, error_code=update.error_code
    )
    if changed or update.status not in early_statuses.KEPT or _known(update.channel, key):
        return changed
    early_statuses.keep(update)
    # The worker takes kept statuses right after it stores the id; if it stored the id between
    # the lookup above and this commit it has already looked, so look once more after commit.
    transaction.on_commit(functools.partial(apply_kept_statuses, channel=update.channel, key=key))
    return 0


def apply_kept_statuses(*, channel: str, key: str) -> int:
    """Apply the statuses kept for message id `key` if a delivery now carries it.

    The same rules as a status webhook, failures included (a 131047 resends as a template).
    """
    if not _known(channel, key):
        return 0
    return sum(
        _apply(channel=channel, key=key, status=kept.status, error_code=kept.error_code or None)
        for kept in early_statuses.take(channel=channel, provider_key=key)
    )


def apply_taken(*, channel: str, key: str, kept: list[EarlyStatus]) -> int:
    """Apply statuses already taken from the early store (the worker's path: one DELETE when
    nothing was kept, this only when something was)."""
    return sum(
        _apply(channel=channel, key=key, status=status.status, error_code=status.error_code or None)
        for status in kept
    )


def _known(channel: str, key: str) -> bool:
    return Delivery.objects.filter(channel=channel, provider_message_id=key).exists()


def _apply(*, channel: str, key: str, status: str, error_code: str | None) -> int:
    if status == "failed":
        deliveries = Delivery.objects.filter(channel=channel, provider_message_id=key)
        return _accept_failure(error_code, deliveries)
    # Plain SQL: about three statuses arrive for every message sent (config/hotsql.py).
    earlier = EARLIER[status]
    return hotsql.execute(
        "UPDATE relay_delivery SET state = %s, updated_at = %s "  # noqa: S608 (placeholders only)
        "WHERE channel = %s AND provider_message_id = %s "
        f"AND state IN ({', '.join(['%s'] * len(earlier))})",
        [status, hotsql.when(timezone.now()), channel, key, *earlier],
    )


def _accept_watermark(update: StatusUpdate) -> int:
    """Messenger's and Instagram's "read/delivered up to here": one UPDATE, the recipient
    matched by their endpoint's blind index in the same statement (no lookup first)."""
    if update.recipient_address is None or update.watermark is None:
        return 0
    try:
        normalized = contacts.normalize_address(
            channel=update.channel, address=update.recipient_address
        )
    except contacts.ContactsError:
        return 0
    return Delivery.objects.filter(
        channel=update.channel,
        recipient_endpoint__channel=update.channel,
        recipient_endpoint__blind_index=contacts.index_for(
            channel=update.channel, normalized=normalized
        ),
        sent_at__lte=update.watermark,
        state__in=["sent", "delivered"] if update.status == "read" else ["sent"],
    ).update(state=update.status, updated_at=timezone.now())


def _accept_failure(error_code: str | None, deliveries: QuerySet[Delivery]) -> int:
    changed = 0
    for delivery in deliveries.filter(state__in=EARLIER["failed"]).select_related(
        "message", "conversation__listing"
    ):
        with transaction.atomic():
            if _mms_refused_later(delivery, error_code):
                # Twilio took the MMS, then the receiving number could not take MMS (30011):
                # the same text goes again with links to the photo page, as at send time.
                Delivery.objects.filter(pk=delivery.pk).update(
                    state=Delivery.State.PENDING,
                    notice_params={**delivery.notice_params, photos.MMS_REFUSED: True},
                    provider_message_id=None,
                    updated_at=timezone.now(),
                )
                publish([delivery.pk])
            elif error_code in WINDOW_CLOSED_CODES and delivery.conversation_id:
                # WhatsApp reports 131047 after accepting the send: resend as the template.
                Delivery.objects.filter(pk=delivery.pk).update(
                    state=Delivery.State.PENDING,
                    force_template=True,
                    provider_message_id=None,
                    updated_at=timezone.now(),
                )
                publish([delivery.pk])
            else:
                mark_failed(
                    delivery,
                    "the recipient's app could not receive it",
                    error_code or "failed",
                )
        changed += 1
    return changed


def _mms_refused_later(delivery: Delivery, error_code: str | None) -> bool:
    return (
        error_code in photos.MMS_UNAVAILABLE
        and delivery.channel == Channel.SMS
        and bool(delivery.notice_params.get("photos"))
        and not delivery.notice_params.get(photos.MMS_REFUSED)  # fell back once already
    )
