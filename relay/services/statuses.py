"""Status webhooks move deliveries forward: sent → delivered → read (or failed).

Platforms send statuses out of order and `read` may come without `delivered`, so a status
only ever moves a delivery forward; a late `delivered` after `read` changes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config import hotsql
from contacts import services as contacts
from relay import crypto
from relay.adapters.base import StatusUpdate
from relay.models import Delivery
from relay.services.delivery import mark_failed
from relay.services.outbound import publish

# The states each status may replace. Pending and waiting rows never move on a status: a
# late "sent" for a WhatsApp template must not swallow the text released after it.
EARLIER = {
    "sent": ("sending",),
    "delivered": ("sending", "sent"),
    "read": ("sending", "sent", "delivered"),
    "failed": ("sending", "sent"),
}
WINDOW_CLOSED_CODES = {"131047"}


def accept_status(*, update: StatusUpdate) -> int:
    """Record one status; return how many deliveries changed. Unknown ids change nothing."""
    if update.status not in EARLIER:
        return 0
    if update.provider_message_id is None:
        return _accept_watermark(update)
    key = crypto.provider_key(update.provider_message_id)
    if update.status == "failed":
        deliveries = Delivery.objects.filter(channel=update.channel, provider_message_id=key)
        return _accept_failure(update, deliveries)
    # Plain SQL: about three statuses arrive for every message sent (config/hotsql.py).
    earlier = EARLIER[update.status]
    return hotsql.execute(
        "UPDATE relay_delivery SET state = %s, updated_at = %s "  # noqa: S608 (placeholders only)
        "WHERE channel = %s AND provider_message_id = %s "
        f"AND state IN ({', '.join(['%s'] * len(earlier))})",
        [update.status, hotsql.when(timezone.now()), update.channel, key, *earlier],
    )


def _accept_watermark(update: StatusUpdate) -> int:
    if update.recipient_address is None or update.watermark is None:
        return 0
    try:
        endpoint = contacts.find_endpoint(channel=update.channel, address=update.recipient_address)
    except contacts.ContactsError:
        return 0
    if endpoint is None:
        return 0
    return Delivery.objects.filter(
        channel=update.channel,
        recipient_endpoint=endpoint,
        sent_at__lte=update.watermark,
        state__in=["sent", "delivered"] if update.status == "read" else ["sent"],
    ).update(state=update.status, updated_at=timezone.now())


def _accept_failure(update: StatusUpdate, deliveries: QuerySet[Delivery]) -> int:
    changed = 0
    for delivery in deliveries.filter(state__in=EARLIER["failed"]).select_related(
        "message", "conversation__listing"
    ):
        with transaction.atomic():
            if update.error_code in WINDOW_CLOSED_CODES and delivery.conversation_id:
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
                    update.error_code or "failed",
                )
        changed += 1
    return changed
